// Sends a model call's outcome: JSON (the upstream's own bytes when nothing was changed), or an event stream
// piped with backpressure; Fastify destroys the stream when the client goes away, which ends the relay.
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { Outcome } from '../domain/proxy.js';

export function sendOutcome(reply: FastifyReply, outcome: Outcome) {
  if (outcome.kind === 'json') {
    reply.type('application/json');
    return reply.send(typeof outcome.body === 'string' ? outcome.body : JSON.stringify(outcome.body));
  }
  reply.headers({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  return reply.send(Readable.from(outcome.frames, { objectMode: false }));
}
