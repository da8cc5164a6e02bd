// basalt logs [ref] <functions|cron|auth|migrations> [--limit 50]: what each service recorded for the project,
// newest first, from the same sources as the MCP get_logs tool: function invocations (every function), cron runs
// (every job), the auth outbox (emails and texts sent) and the applied migrations.
import { flag, projectRef, usageError, type Command } from '../command.js';
import type { PlatformApi } from '../api.js';
import { table } from '../output.js';

const SERVICES = ['functions', 'cron', 'auth', 'migrations'] as const;
type Service = (typeof SERVICES)[number];
const usage = `basalt logs [ref] <${SERVICES.join('|')}> [--limit 50]`;

type Entry = Record<string, any>;
const at = (e: Entry) => Date.parse(String(e.created_at ?? e.started_at ?? e.scheduled_at ?? e.applied_at ?? e.sent_at ?? '')) || 0;

async function entries(api: PlatformApi, ref: string, service: Service, limit: number): Promise<Entry[]> {
  if (service === 'functions') {
    const fns = await api.get<{ slug: string }[]>(`/projects/${ref}/functions`);
    const all = await Promise.all(fns.map(async (f) =>
      (await api.get<Entry[]>(`/projects/${ref}/functions/${f.slug}/logs?limit=${limit}`)).map((l) => ({ slug: f.slug, ...l }))));
    return all.flat();
  }
  if (service === 'cron') {
    const jobs = await api.project<{ id: string; name: string }[]>(ref, 'GET', '/cron/admin/v1/jobs');
    const all = await Promise.all(jobs.map(async (j) =>
      (await api.project<Entry[]>(ref, 'GET', `/cron/admin/v1/jobs/${j.id}/runs?limit=${limit}`)).map((r) => ({ job: j.name, job_id: j.id, ...r }))));
    return all.flat();
  }
  if (service === 'auth') return api.get<Entry[]>(`/projects/${ref}/outbox?limit=${limit}`);
  return api.get<Entry[]>(`/projects/${ref}/database/migrations`);
}

const COLUMNS: Record<Service, string[]> = {
  functions: ['created_at', 'slug', 'method', 'status', 'duration_ms', 'error'],
  cron: ['scheduled_at', 'job', 'status', 'duration_ms', 'error'],
  auth: ['created_at', 'type', 'to', 'subject'],
  migrations: ['applied_at', 'version', 'name'],
};

export const logsCommand: Command = {
  name: 'logs',
  summary: "a project's recent log entries of one service: functions, cron, auth (outbox) or migrations",
  usage,
  subcommands: [...SERVICES],
  flags: ['limit', 'project-ref'],
  async run(ctx) {
    const ref = projectRef(ctx, usage);
    const service = ctx.args[0] as Service | undefined;
    if (!service || !SERVICES.includes(service)) throw usageError(usage, service ? `unknown service "${service}"` : 'which service?');
    const limit = Number(flag(ctx.flags, 'limit') ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw usageError(usage, '--limit must be a whole number from 1 to 500');
    const list = (await entries(ctx.api(), ref, service, limit)).sort((a, b) => at(b) - at(a)).slice(0, limit);
    ctx.out.result({ service, entries: list }, (r) => {
      if (!r.entries.length) return `no ${service} entries`;
      const body = table(r.entries, COLUMNS[service]);
      return service === 'functions' ? `${body}${r.entries.some((e: Entry) => e.logs) ? '\n(--json shows each invocation\'s console output)' : ''}` : body;
    });
  },
};
