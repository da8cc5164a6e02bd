// Token counts for providers that report none (and count_tokens on OpenAI-format models). The BPE table
// (cl100k) takes a second or two of CPU and ~40 MB to load, during which the event loop is blocked, so main.ts
// loads it before listening (AI_TOKENIZER=cl100k) rather than on a request; AI_TOKENIZER=estimate keeps the
// character-class estimate below, which is also what Claude models get (their tokenizer is not public).
let exact: ((text: string) => number) | null = null;

export async function loadTokenizer(): Promise<void> {
  const m = await import('gpt-tokenizer/encoding/cl100k_base');
  exact = (text: string) => m.encode(text, { allowedSpecial: 'all' }).length;
}

/** ~4 characters a token for words, one per punctuation mark, ~1.5 per non-Latin character */
export function estimateTokens(text: string): number {
  let n = 0;
  for (const piece of text.match(/[A-Za-z]+|\d{1,3}|\s+|[^\sA-Za-z\d]/g) ?? []) {
    if (/^\s+$/.test(piece)) continue;
    if (/^[A-Za-z]/.test(piece)) n += Math.max(1, Math.ceil(piece.length / 4));
    else if (piece.charCodeAt(0) > 0x2e7f) n += 1.5;
    else n += 1;
  }
  return Math.ceil(n);
}

export function countTokens(text: string): number {
  if (!text) return 0;
  return exact ? exact(text) : estimateTokens(text);
}

/** the text of any message shape (OpenAI or Anthropic): every string under content/text/arguments/input */
export function textOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) textOf(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'image_url' || k === 'source' || k === 'type' || k === 'cache_control' || k === 'id' || k === 'tool_call_id' || k === 'tool_use_id') continue;
      textOf(v, out);
    }
  }
  return out;
}

/** prompt tokens of a request: messages, system and tool definitions, plus a few per message for framing */
export function promptTokens(body: { messages?: unknown; system?: unknown; tools?: unknown; input?: unknown; instructions?: unknown }): number {
  const parts = textOf([body.system ?? '', body.instructions ?? '', body.messages ?? [], body.input ?? ''], []);
  const tools = body.tools ? JSON.stringify(body.tools) : '';
  const framing = Array.isArray(body.messages) ? body.messages.length * 4 + 3 : 3;
  return countTokens(parts.join('\n')) + countTokens(tools) + framing;
}
