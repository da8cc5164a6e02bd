// REST broadcast, as realtime-js (httpSend, send() before join) and Supabase's API call it; 202, no body.
import { z } from 'zod';
import { defineRoute, type RouteRequest } from '@basalt/http';
import type { RestMessage } from '../domain/rest-broadcast.js';

const Batch = z.object({
  messages: z.array(z.object({
    topic: z.string(),
    event: z.string(),
    payload: z.unknown().optional(),
    private: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).optional(),
  })).min(1).max(100),
});
const TopicEvent = z.object({ topic: z.string().min(1), event: z.string().min(1) });
const Private = z.object({ private: z.enum(['true', 'false']).optional() }).passthrough();

type Send = (req: RouteRequest<any>, messages: RestMessage[]) => Promise<void>;

export function broadcastRoutes(send: Send) {
  return [
    defineRoute({
      method: 'POST', url: '/api/broadcast', schema: { body: Batch },
      handler: async (req, reply) => {
        await send(req, req.body.messages.map((m) => ({
          topic: m.topic, event: m.event, encoding: 1 as const, bytes: Buffer.from(JSON.stringify(m.payload ?? {})), private: m.private ?? false,
        })));
        return reply.code(202).send();
      },
    }),
    defineRoute({
      method: 'POST', url: '/api/broadcast/:topic/events/:event', schema: { params: TopicEvent, querystring: Private },
      handler: async (req, reply) => {
        const binary = Buffer.isBuffer(req.body);
        const bytes = binary ? (req.body as Buffer) : Buffer.from(JSON.stringify(req.body ?? {}));
        await send(req, [{ topic: req.params.topic, event: req.params.event, encoding: binary ? 0 : 1, bytes, private: req.query.private === 'true' }]);
        return reply.code(202).send();
      },
    }),
  ];
}
