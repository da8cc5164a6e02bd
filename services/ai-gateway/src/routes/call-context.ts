// Per-request composition for /v1/*: onRequest identifies the caller (before any body is read) and counts the
// request against its per-minute limit; callContext ties the call to the client's connection, so a client
// that goes away aborts the upstream call too.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { arrivedAt } from '@basalt/http';
import type { Budgets } from '../domain/budgets.js';
import type { Caller, Callers } from '../domain/callers.js';
import type { CallContext } from '../domain/usage-meter.js';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

export const identifyCaller = (callers: Callers, budgets: Budgets) => async (req: FastifyRequest, reply: FastifyReply) => {
  reply.header('request-id', req.id); // Anthropic's SDK reads this name, OpenAI's x-request-id
  req.caller = await callers.identify(req.headers);
  // the gateway meters the request for this project (an AI key names its project only here); it never reaches the client
  reply.header('x-basalt-ref', req.caller.ref);
  await budgets.admitRequest(req.caller);
};

const header = (req: FastifyRequest, name: string) => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v.join(',') : undefined;
};

export function callContext(req: FastifyRequest, reply: FastifyReply): CallContext {
  const upstream = new AbortController();
  let gone = false;
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) {
      gone = true;
      upstream.abort(new Error('client closed the connection'));
    }
  });
  return {
    caller: req.caller,
    requestId: req.id,
    clientGone: () => gone,
    upstreamSignal: upstream.signal,
    abortUpstream: () => upstream.abort(new Error('call finished')),
    anthropicVersion: header(req, 'anthropic-version'),
    anthropicBeta: header(req, 'anthropic-beta'),
    startedAt: arrivedAt(reply),
  };
}
