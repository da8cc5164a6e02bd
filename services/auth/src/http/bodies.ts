// Request bodies as the auth service took them under Express: JSON (application/json, application/*+json, and
// text/plain read as JSON; size and depth limits from @basalt/http), URL-encoded forms (OAuth-style token
// calls; a repeated key becomes an array as body-parser's did), and any other type left unread, as no body.
import { parseJson, type App, type JsonOptions } from '@basalt/http';

export const JSON_TYPES = ['application/json', 'text/plain'];
const STRUCTURED_JSON = /^application\/[^;\s]+\+json(\s*;|$)/i;

export function useAuthBodies(app: App, json: JsonOptions): void {
  app.addContentTypeParser(STRUCTURED_JSON, { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJson(body as Buffer, json));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    // no prototype: a key named __proto__ is just a key
    const form: Record<string, string | string[]> = Object.create(null);
    for (const [k, v] of new URLSearchParams(body as string)) {
      const seen = form[k];
      form[k] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v];
    }
    done(null, form);
  });
  // Unknown types were ignored, not refused: the handler sees no body (and answers what the flow says to that).
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
}
