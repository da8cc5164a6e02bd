// Sends a model call's outcome: JSON (the upstream's own bytes when nothing was changed), or an event stream
// written frame by frame with backpressure. A stream is written to the socket directly (the reply hijacked):
// piped through a Readable, the first frame waited a tick or more for the pipe, and time to first token is
// what a streaming caller feels: the first frame goes out as soon as it is written. Fastify's onResponse hooks
// (metrics) still run when the response finishes.
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Outcome } from '../domain/proxy.js';

const STREAM_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

/** until the client has taken what was written, or has gone away */
const drained = (res: ServerResponse) => new Promise<void>((resolve) => {
  const done = () => {
    res.off('drain', done).off('close', done);
    resolve();
  };
  res.on('drain', done).on('close', done);
});

export async function sendOutcome(reply: FastifyReply, outcome: Outcome) {
  if (outcome.kind === 'json') {
    reply.type('application/json');
    return reply.send(typeof outcome.body === 'string' ? outcome.body : JSON.stringify(outcome.body));
  }
  reply.hijack();
  const res = reply.raw;
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
  res.writeHead(reply.statusCode, STREAM_HEADERS);
  // A client that went away aborts the upstream call (callContext), which ends the relay and records the call:
  // the frames are read to their end either way, only no longer written.
  let first = true;
  try {
    for await (const frame of outcome.frames) {
      const ok = res.write(frame);
      // node:http corks the socket on a write until the next tick; frames that arrived together are relayed
      // within this tick, so the first one would wait for all of them (and the usage record) to go out
      if (first) {
        first = false;
        res.socket?.uncork();
      }
      if (!ok && !res.destroyed) await drained(res);
    }
    res.end();
  } catch (err) {
    reply.log.error({ err }, 'event stream failed');
    res.destroy();
  }
}
