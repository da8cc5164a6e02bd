// Content types are parsed, never echoed: every value a client gives (upload headers, multipart fields, TUS
// metadata) is parsed as one RFC 7231 media type, and only the lower-cased type/subtype plus a checked charset is
// stored. What is served is decided from a fresh parse of the stored value, so rows written before this rule
// cannot reach a browser as anything but their parsed type, or application/octet-stream.
import contentType from 'content-type';
import { storageErrors } from '../errors.js';

export const OCTET_STREAM = 'application/octet-stream';

export interface MediaType {
  /** `type/subtype`, lower-cased */
  type: string;
  charset?: string;
}

const CHARSET = /^[a-z0-9][a-z0-9._:+-]{0,39}$/;
/** Documents a browser runs script in when opened directly: served as text. */
const HTML = new Set(['text/html', 'application/xhtml+xml']);
/** Types a browser renders as XML (script through SVG, XHTML namespaces or XSLT): served sandboxed. */
const isXml = (type: string) => type === 'text/xsl' || /\/(?:xml|.+\+xml)$/.test(type);
/** multipart/x-mixed-replace and kin are stream containers to a browser, never the type of a stored file. */
const CONTAINER = /^(?:multipart|message)\//;

/** Exactly one `type/subtype` with optional parameters, or null: lists, stray tokens and empty parts are not. */
export function parseMediaType(raw: unknown): MediaType | null {
  if (typeof raw !== 'string' || raw.length > 1000) return null;
  let parsed: contentType.ParsedMediaType;
  try {
    parsed = contentType.parse(raw);
  } catch {
    return null;
  }
  const charset = parsed.parameters.charset?.toLowerCase();
  return charset !== undefined && CHARSET.test(charset) ? { type: parsed.type, charset } : { type: parsed.type };
}

export const formatMediaType = (m: MediaType) => (m.charset ? `${m.type}; charset=${m.charset}` : m.type);

/** The content type an object is stored with; none given is application/octet-stream, a malformed one a 400. */
export function objectContentType(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') return OCTET_STREAM;
  const m = parseMediaType(raw);
  if (!m || CONTAINER.test(m.type)) throw storageErrors.malformedMime();
  return formatMediaType(m);
}

/** A stored value read back (possibly written before the parse rule): its parse, or application/octet-stream. */
export function storedMediaType(stored: unknown): MediaType {
  const m = parseMediaType(stored);
  return m && !CONTAINER.test(m.type) ? m : { type: OCTET_STREAM };
}

/**
 * How a stored object is served on the API origin: HTML and XHTML as plain text (Supabase does the same), XML
 * types (SVG included) with a sandboxing CSP so they still work as <img> sources but run nothing when opened.
 */
export function servedContentType(stored: unknown): { contentType: string; sandbox: boolean } {
  const m = storedMediaType(stored);
  if (HTML.has(m.type)) return { contentType: 'text/plain; charset=utf-8', sandbox: true };
  return { contentType: formatMediaType(m), sandbox: isXml(m.type) };
}

export const SANDBOX_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:";
