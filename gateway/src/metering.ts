// What the gateway meters (@basalt/metering), one place for all HTTP: a request and its response body bytes per
// project and upstream service. The project is the one the gateway admitted; for routes it cannot resolve itself
// (AI keys, mem0 tokens) the service names it in x-basalt-ref; CDN reads name it in their path.
import type { Socket } from 'node:net';
import type { Meter } from '@basalt/metering';
import type { Match, Service } from './routes.js';

const REF = /^[a-z]{20}$/;
/** Only these services' x-basalt-ref is believed: their answers never carry headers a tenant chose. */
const NAMES_PROJECT = new Set<Service>(['ai-gateway', 'memory']);

/** /cdn/<ref>/<bucket>/<path>: the ref storage checked, when it served the read */
function cdnRef(match: Match): string | null {
  if (match.route.prefix !== '/cdn' || match.rest[21] !== '/') return null;
  const ref = match.rest.slice(1, 21);
  return REF.test(ref) ? ref : null;
}

export function requestMeter(meter: Meter | undefined) {
  if (!meter?.enabled) return null;
  return {
    /**
     * One forwarded exchange. `ref` is the admitted project (null on project-less routes), `named` the upstream's;
     * `at`: when the request came (Date.now()), the hour it counts in.
     */
    exchange(match: Match, ref: string | null, named: string | null, status: number, bytes: number, at: number): void {
      const service = match.route.service;
      const who = ref
        ?? (named !== null && NAMES_PROJECT.has(service) && REF.test(named) ? named : null)
        ?? (status < 400 ? cdnRef(match) : null);
      if (who === null) return;
      meter.count(who, service, 'requests', 1, at);
      meter.count(who, service, 'egress_bytes', bytes, at);
    },
    /** A WebSocket: one request, and every byte written to the client, counted when it closes. */
    tunnel(match: Match, ref: string, socket: Socket): void {
      const service = match.route.service;
      meter.count(ref, service, 'requests');
      socket.once('close', () => meter.count(ref, service, 'egress_bytes', socket.bytesWritten));
    },
  };
}
