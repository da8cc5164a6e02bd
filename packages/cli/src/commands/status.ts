// basalt status: is each service of the local fleet up, and is it ready (its Postgres/Redis reachable)?
import { SERVICES } from '@basalt/fleet';
import { CliError, flag, type Command } from '../command.js';
import { table } from '../output.js';

async function probe(url: string): Promise<string> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return r.ok ? 'ok' : `HTTP ${r.status}`;
  } catch {
    return 'down';
  }
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'health and readiness of every service of the local fleet',
  usage: 'basalt status [--base-port 8000]',
  async run(ctx) {
    const base = Number(flag(ctx.flags, 'base-port') ?? 8000);
    const rows = await Promise.all(
      SERVICES.map(async (s) => {
        const url = `http://127.0.0.1:${base + s.port - 8000}`;
        return { service: s.name, url, health: await probe(`${url}/health`), ready: await probe(`${url}/ready`) };
      }),
    );
    ctx.out.result(rows, (r) => table(r, ['service', 'url', 'health', 'ready']));
    if (rows.find((r) => r.service === 'gateway')?.ready !== 'ok') throw new CliError('the gateway is not ready');
  },
};
