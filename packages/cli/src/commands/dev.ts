// basalt dev: the whole fleet on this machine as child processes, a demo project on first run,
// .basalt/credentials.json written, and the URL and keys printed.
import net from 'node:net';
import { join } from 'node:path';
import { startFleet } from '@basalt/fleet';
import { PlatformApi } from '../api.js';
import { CliError, flag, type Command } from '../command.js';
import { BASALT_DIR, credentialsPath, localSecrets, readCredentials, writeCredentials, type Credentials } from '../credentials.js';

const portTaken = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.createServer().once('error', () => resolve(true)).listen(port, '0.0.0.0', () => s.close(() => resolve(false)));
  });

async function ensureDemo(api: PlatformApi, saved: Credentials | null): Promise<NonNullable<Credentials['demo']>> {
  if (saved?.demo) {
    const keys = await api.get<{ name: string; api_key: string }[]>(`/projects/${saved.demo.ref}/api-keys`).catch(() => null);
    if (keys) {
      const project = await api.get<{ url: string }>(`/projects/${saved.demo.ref}`);
      return { ref: saved.demo.ref, url: project.url, anon_key: keys[0].api_key, service_role_key: keys[1].api_key };
    }
  }
  const p = await api.post<{ ref: string; url: string; anon_key: string; service_role_key: string }>('/projects', { name: 'demo' });
  return { ref: p.ref, url: p.url, anon_key: p.anon_key, service_role_key: p.service_role_key };
}

export const devCommand: Command = {
  name: 'dev',
  summary: 'run the whole fleet locally (what `npm start` does)',
  usage: 'basalt dev [--port 8000] [--logs] [--reset-control-db <database>]',
  async run(ctx) {
    const port = Number(flag(ctx.flags, 'port') ?? process.env.PORT ?? 8000);
    const secrets = localSecrets();
    const publicUrl = process.env.BASALT_PUBLIC_URL ?? `http://localhost:${port}`;
    const env: Record<string, string> = {
      DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/basalt',
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      BASALT_MASTER_KEY: process.env.BASALT_MASTER_KEY ?? secrets.master_key,
      BASALT_PLATFORM_TOKEN: process.env.BASALT_PLATFORM_TOKEN ?? secrets.platform_token,
      BASALT_PUBLIC_URL: publicUrl,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    };
    // pg and the tenancy package load only here, so every other command starts faster
    const { ensureMasterKeyMatches, resetControlDatabase } = await import('../control-db.js');
    const reset = flag(ctx.flags, 'reset-control-db');
    if (reset) {
      const { projects } = await ctx.out.step(`dropping the control database "${reset}" and its projects`, () => resetControlDatabase(env.DATABASE_URL, reset));
      ctx.out.info(`dropped "${reset}" and ${projects} project database(s)`);
      const saved = readCredentials();
      if (saved?.demo) writeCredentials({ url: saved.url, platform_token: saved.platform_token }); // the demo project went with it
    }
    await ensureMasterKeyMatches(env.DATABASE_URL, env.BASALT_MASTER_KEY);
    for (let p = port; p <= port + 10; p++) {
      if (await portTaken(p)) throw new CliError(`port ${p} is in use: is Basalt already running? (basalt status) Use --port to pick another range.`);
    }
    const logs = ctx.flags.logs === true ? 'inherit' : join(BASALT_DIR, 'logs');
    // Ctrl-C or SIGTERM stops the fleet, also while it is still starting (what was launched so far is stopped); so
    // does the end of the IPC channel `npm start` opens, when that process is killed outright
    const stop = new AbortController();
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());
    if (process.channel) {
      process.channel.unref();
      process.once('disconnect', () => stop.abort());
    }
    const stopping = stop.signal;
    const fleet = await ctx.out.step('starting the fleet', () =>
      startFleet({
        env,
        basePort: port,
        logs,
        signal: stopping,
        onRestart: ({ name, code, signal, delayMs }) => {
          if (stopping.aborted) return;
          const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          ctx.out.info(`↻ ${name} ${why}; restarting it in ${delayMs} ms (logs: ${logs === 'inherit' ? 'above' : join(logs, `${name}.log`)})`);
        },
        onGiveUp: ({ reason }) => {
          if (!stopping.aborted) ctx.out.info(`✖ ${reason}`);
        },
      }),
    ).catch((e: Error) => {
      if (stopping.aborted) return undefined;
      throw e;
    });
    if (!fleet) return ctx.out.info('stopped before the fleet had started');
    const api = new PlatformApi(publicUrl, env.BASALT_PLATFORM_TOKEN);
    const saved = readCredentials();
    const demo = await ctx.out.step('preparing the demo project', () => ensureDemo(api, saved));
    const credentials: Credentials = { url: publicUrl, platform_token: env.BASALT_PLATFORM_TOKEN, demo };
    writeCredentials(credentials);

    ctx.out.result({ ...credentials, services: fleet.urls }, () =>
      [
        '',
        `Basalt is running at ${publicUrl}`,
        '',
        `  platform token     ${credentials.platform_token}`,
        `  demo project       ${demo.ref}`,
        `  demo URL           ${demo.url}`,
        `  anon key           ${demo.anon_key}`,
        `  service_role key   ${demo.service_role_key}`,
        '',
        `  saved to           ${credentialsPath}`,
        `  service logs       ${logs === 'inherit' ? '(this terminal)' : logs}`,
        '',
        'Try:',
        `  curl -s ${publicUrl}/platform/v1/projects -H "Authorization: Bearer ${credentials.platform_token}"`,
        `  curl -s "${demo.url}/rest/v1/" -H "apikey: ${demo.anon_key}"`,
        '',
        'Ctrl-C stops the fleet.',
      ].join('\n'),
    );
    if (!stopping.aborted) await new Promise((resolve) => stopping.addEventListener('abort', resolve, { once: true }));
    ctx.out.info('stopping…');
    await fleet.stop();
  },
};
