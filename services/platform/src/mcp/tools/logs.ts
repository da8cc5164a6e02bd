// get_logs: what each service records per project, newest first, in one call: function invocations, cron runs,
// the auth outbox (emails and SMS the project sent) and the applied migrations.
import { z } from 'zod';
import { listMigrations } from '../../domain/migrations.js';
import { defineTool } from '../tool.js';
import { db } from './database.js';

const at = (r: Record<string, any>) => {
  const v = r.created_at ?? r.started_at ?? r.applied_at ?? r.sent_at;
  return (v instanceof Date ? v.getTime() : Date.parse(String(v))) || 0;
};

export const logTools = [
  defineTool({
    name: 'get_logs',
    description: 'Recent log entries of one service of the project, newest first. service: functions (invocations of every function: ' +
      'slug, status, duration, console output, error), cron (runs of every job: job, status, result, error), auth (the outbox of ' +
      'emails/SMS auth sent: confirmations, magic links, OTPs), migrations (applied migrations). Returns {service, entries: [...]}.',
    write: false,
    input: {
      ref: z.string().describe('the project ref'),
      service: z.enum(['functions', 'cron', 'auth', 'migrations']),
      limit: z.number().int().min(1).max(500).default(50),
    },
    run: async ({ ref, service, limit }, ctx) => {
      await ctx.project(ref);
      const headers = { authorization: `Bearer ${ctx.token}` };
      let entries: Record<string, any>[] = [];
      if (service === 'functions') {
        const fns = await ctx.peer.platform<{ slug: string }[]>(ref, '/functions', { headers });
        for (const f of fns) {
          const logs = await ctx.peer.platform<Record<string, any>[]>(ref, `/functions/${f.slug}/logs`, { headers, query: { limit } });
          entries.push(...logs.map((l) => ({ slug: f.slug, ...l })));
        }
      } else if (service === 'cron') {
        const jobs = await ctx.peer.project<{ id: string; name: string }[]>(ref, '/cron/admin/v1/jobs', { headers });
        for (const j of jobs) {
          const runs = await ctx.peer.project<Record<string, any>[]>(ref, `/cron/admin/v1/jobs/${j.id}/runs`, { headers, query: { limit } });
          entries.push(...runs.map((r) => ({ job: j.name, job_id: j.id, ...r })));
        }
      } else if (service === 'auth') {
        entries = await ctx.peer.platform(ref, '/outbox', { headers, query: { limit } });
      } else {
        entries = await (await db(ctx, ref, false))(listMigrations);
      }
      entries.sort((a, b) => at(b) - at(a));
      return { service, entries: entries.slice(0, limit) };
    },
  }),
];
