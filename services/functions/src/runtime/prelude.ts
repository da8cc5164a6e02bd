// Code bundled ahead of every function: a Deno.serve / Deno.env shim (Supabase functions are written that way),
// per-invocation console capture, and one dispatcher that turns a thrown error into a JSON 500.
// The values of Deno.env come from globalThis.__BASALT_ENV__, set when the isolate is created.
export const PRELUDE = String.raw`
import { AsyncLocalStorage } from 'node:async_hooks';
// the runtime's gc() (workerd runs with --expose-gc): taken away from the function's code, and run every 500
// invocations, as the dispatcher does (see dispatcher.js for why)
const collect = globalThis.gc;
globalThis.gc = undefined; // writable but not configurable in workerd's global scope
let invocations = 0;
const env = Object.freeze({ ...(globalThis.__BASALT_ENV__ ?? {}) });
delete globalThis.__BASALT_ENV__;
const logs = new AsyncLocalStorage();
const show = (v) => { if (typeof v === 'string') return v; if (v instanceof Error) return v.stack ?? v.message; try { return JSON.stringify(v); } catch { return String(v); } };
for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
  console[level] = (...args) => { const buf = logs.getStore(); if (buf && buf.length < 1000) buf.push('[' + level + '] ' + args.map(show).join(' ')); };
}
// The lines as the header carries them, at most 48,000 characters: cut as text and encoded again, never cut
// encoded (half an escape or half the JSON would be no header the service can read).
const encodeLogs = (lines) => {
  let out = encodeURIComponent(JSON.stringify(lines));
  while (out.length > 48000) {
    const text = lines.join('\n');
    lines = [text.slice(0, Math.floor(text.length * Math.min(0.9, 48000 / out.length)))];
    out = encodeURIComponent(JSON.stringify(lines));
  }
  return out;
};
let served = null;
globalThis.Deno = {
  serve(a, b) { served = typeof a === 'function' ? a : typeof b === 'function' ? b : a?.handler ?? null; return { finished: Promise.resolve(), shutdown() {} }; },
  env: { get: (k) => env[k], has: (k) => k in env, toObject: () => ({ ...env }) },
};
let current = null;
globalThis.EdgeRuntime = { waitUntil: (p) => current?.waitUntil(p) };
globalThis.__basaltDispatch = (mod, req, bindings, ctx) => {
  if (++invocations === 500) {
    invocations = 0;
    collect?.();
  }
  const buf = [];
  return logs.run(buf, async () => {
    current = ctx;
    let res;
    try {
      const h = typeof mod.default?.fetch === 'function' ? (r) => mod.default.fetch(r, bindings, ctx) : served;
      res = h ? await h(req) : Response.json({ code: 'no_handler', message: 'The function neither exports a fetch handler nor calls Deno.serve' }, { status: 500 });
      if (!(res instanceof Response)) res = Response.json({ code: 'bad_response', message: 'The handler did not return a Response' }, { status: 500 });
    } catch (e) {
      buf.push('[error] ' + show(e));
      res = Response.json({ code: 'function_error', message: String(e?.message ?? e) }, { status: 500 });
    }
    // nothing logged: the response goes back as it is (a copy only to carry the lines, or to replace a header of
    // that name the function set itself)
    if (buf.length === 0 && !res.headers.has('x-basalt-logs')) return res;
    const headers = new Headers(res.headers);
    headers.set('x-basalt-logs', encodeLogs(buf));
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  });
};
`;
