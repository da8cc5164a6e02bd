// onRequest: every memory route needs a caller; the project's settings and pool are bound to the request here,
// so no statement can forget which project (and which user) it serves, and so is the client's connection.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ProjectPools } from '@basalt/db';
import type { AccessControl } from '../domain/access.js';
import type { Ctx } from '../domain/context.js';
import { memorySettings } from '../domain/settings.js';

declare module 'fastify' {
  interface FastifyRequest {
    memory: Ctx;
  }
}

export const bindContext = (access: AccessControl, pools: ProjectPools) => async (req: FastifyRequest, reply: FastifyReply) => {
  const caller = await access.identify(req.headers);
  // the gateway meters the request for this project (a key names its project only here); it never reaches the client
  reply.header('x-basalt-ref', caller.project.ref);
  // a client that goes away stops the model calls still to come for its request (the rerank step's, say)
  const gone = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) gone.abort(new Error('client closed the connection'));
  });
  req.memory = { caller, settings: memorySettings(caller.project), pool: pools.get(caller.project), signal: gone.signal };
};
