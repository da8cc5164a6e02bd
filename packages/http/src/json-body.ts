// The depth limit of JSON request bodies, checked on the raw bytes before parsing, so a deeply nested body is a
// 400 in the API's own shape instead of a stack overflow deeper in (JSON.stringify on the way to Postgres, a
// recursive walk of user metadata) that would surface as a 500.

/** Deeper than any document an API of ours expects; far below what recursion in V8 or Postgres can take. */
export const MAX_JSON_DEPTH = 100;

/** Scans raw JSON text for nesting beyond `max`, skipping string contents (escapes included); no allocation. */
export function jsonDepthExceeds(buf: Uint8Array, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
