// The dispatcher worker every workerd runtime process runs. The functions service sends it each invocation with
// the isolate id (function version, secrets revision, generation) in x-basalt-runtime-* headers; the dispatcher
// loads that id through the Worker Loader (code, env and secrets asked once from the service's host socket) and
// hands the request to the isolate. A loaded isolate's only network is globalOutbound: the Egress entrypoint
// below, which tags each fetch with its tenant and sends it back to the service, where the egress policy applies.
/* global Request, Response, Headers -- workerd's globals */
// Plain JavaScript: workerd runs this file as it is.
import { WorkerEntrypoint } from 'cloudflare:workers';

const PREFIX = 'x-basalt-runtime-';
/** an entrypoint name no function exports */
const LOAD_ONLY = '__basalt_load_probe__';
/**
 * Every this many requests an isolate runs a full collection (gc(), which workerd exposes with --expose-gc). Each
 * request leaves a few KB of native memory (headers, request and response objects) behind JS wrappers that outlive
 * the young generation; V8 does not count that memory, so its own heuristics never collect it: under a steady load
 * a process grew ~3.6 KB a request (past its memory budget in seconds) and spent more CPU on the bigger heap.
 * Collected every 500 requests, a process serving one busy function stays near 70 MB and uses less CPU per request.
 * The prelude does the same in every function isolate.
 */
const COLLECT_EVERY = 500;
const collect = globalThis.gc;
let requests = 0;
const counted = () => {
  if (++requests === COLLECT_EVERY) {
    requests = 0;
    collect?.();
  }
};
const relay = (status, code, message) =>
  Response.json({ code, message }, { status, headers: { 'x-relay-error': 'true', 'x-basalt-runtime-error': code } });

export class Egress extends WorkerEntrypoint {
  async fetch(request) {
    counted();
    const headers = new Headers(request.headers);
    for (const k of [...headers.keys()]) if (k.startsWith(PREFIX)) headers.delete(k);
    headers.set(`${PREFIX}token`, this.env.TOKEN);
    headers.set(`${PREFIX}isolate`, this.ctx.props.isolate);
    headers.set(`${PREFIX}url`, request.url);
    return this.env.HOST.fetch('http://host/egress', {
      method: request.method, headers, body: request.body, redirect: 'manual', ...(request.body ? { duplex: 'half' } : {}),
    });
  }
}

export default {
  async fetch(request, env, ctx) {
    counted();
    if (request.headers.get(`${PREFIX}token`) !== env.TOKEN) return relay(403, 'forbidden', 'not the functions service');
    const url = new URL(request.url);
    if (url.pathname === '/__basalt/ping') return new Response('pong');
    const isolate = request.headers.get(`${PREFIX}isolate`);
    const target = request.headers.get(`${PREFIX}url`);
    if (!isolate || (!target && url.pathname !== '/__basalt/load')) return relay(400, 'bad_dispatch', 'missing isolate id');
    const stub = env.LOADER.get(isolate, async () => {
      const r = await env.HOST.fetch(`http://host/code/${encodeURIComponent(isolate)}`, { headers: { [`${PREFIX}token`]: env.TOKEN } });
      if (!r.ok) throw new Error(`code unavailable: ${await r.text()}`);
      const spec = await r.json();
      return {
        compatibilityDate: spec.compatibilityDate,
        compatibilityFlags: spec.compatibilityFlags,
        mainModule: 'index.js',
        modules: { 'index.js': spec.code },
        env: spec.env,
        globalOutbound: ctx.exports.Egress({ props: { isolate } }),
      };
    });
    if (url.pathname === '/__basalt/load') {
      // Loads the isolate (its module is evaluated) without running any of its handlers: asking for an
      // entrypoint it cannot have fails only once the module is up, or with the error that kept it from starting.
      try {
        await stub.getEntrypoint(LOAD_ONLY).fetch(new Request('http://load/'));
      } catch (e) {
        const message = String(e?.message ?? e);
        if (message.includes(LOAD_ONLY)) return new Response(null, { status: 204 });
        return relay(503, 'function_boot_failed', message.replace(/^Failed to start Worker:\s*/, ''));
      }
      return relay(500, 'bad_load', 'the isolate exports the load probe');
    }
    // The function's request, without the runtime's three fields (the service strips every other x-basalt-*
    // header a client sent). Made with the incoming headers and then trimmed: one copy of them, where copying into a
    // Headers first and into the Request after cost workerd ~10% of its CPU per call.
    const forwarded = new Request(target, { method: request.method, headers: request.headers, body: request.body, redirect: 'manual' });
    forwarded.headers.delete(`${PREFIX}token`);
    forwarded.headers.delete(`${PREFIX}isolate`);
    forwarded.headers.delete(`${PREFIX}url`);
    try {
      const res = await stub.getEntrypoint().fetch(forwarded);
      // x-basalt-runtime-error marks this dispatcher's own relay errors: a function that sets it would have its
      // answer taken for a boot failure (and a fresh isolate loaded for each call), so it does not go out as given
      if (!res.headers.has(`${PREFIX}error`)) return res;
      const headers = new Headers(res.headers);
      headers.delete(`${PREFIX}error`);
      return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
    } catch (e) {
      const message = String(e?.message ?? e);
      // a request the isolate never finished (hung, cancelled, its stream broken) vs. one it could not start
      return /hung|canceled|cancelled|disconnected|stream/i.test(message)
        ? relay(502, 'function_failed', message)
        : relay(503, 'function_boot_failed', message.replace(/^Failed to start Worker:\s*/, ''));
    }
  },
};
