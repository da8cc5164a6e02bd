// A throwaway Postgres cluster (and optionally its streaming replica, or wal_level=logical for logical decoding, or
// initdb options such as another default locale) for placement, capture and collation tests: initdb and pg_ctl from
// the newest /usr/lib/postgresql/<n>/bin into a temp dir on free ports, run as the postgres user when we are root
// (as infra/scripts does with the system cluster), pg_basebackup -R for the replica; stop() removes it all.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BASE = '/usr/lib/postgresql';

/** The directory holding initdb and pg_ctl, or null when none is installed. */
export function postgresBin(): string | null {
  if (!existsSync(BASE)) return null;
  const v = readdirSync(BASE).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a))
    .find((d) => ['initdb', 'pg_ctl', 'pg_basebackup'].every((t) => existsSync(join(BASE, d, 'bin', t))));
  return v ? join(BASE, v, 'bin') : null;
}

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => {
    const port = (s.address() as { port: number }).port;
    s.close(() => resolve(port));
  });
});

export interface LocalCluster {
  url: string;
  replicaUrl: string | null;
  /** a fast shutdown and start of the primary (every session is ended; what committed stays) */
  restart: () => void;
  stop: () => void;
}

export async function startLocalCluster(o: { replica?: boolean; walLevel?: 'replica' | 'logical'; initdb?: string[] }): Promise<LocalCluster> {
  const bin = postgresBin();
  if (!bin) throw new Error('no Postgres server binaries');
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'basalt-cluster-'));
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const run = (tool: string, args: string[]) =>
    execFileSync(root ? 'runuser' : join(bin, tool), root ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args, { stdio: 'pipe', timeout: 120_000 });
  // appending as root to the file initdb wrote keeps its owner
  const conf = (data: string) => join(data, 'postgresql.conf');
  const started: string[] = [];
  const stop = () => {
    for (const data of started.reverse()) {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      } catch {
        /* already down */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    const primary = join(dir, 'primary');
    run('initdb', ['-D', primary, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', ...(o.initdb ?? [])]);
    const settings = (p: number) => `\nport = ${p}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 32MB\nmax_connections = 60\nwal_level = ${o.walLevel ?? 'replica'}\nmax_wal_senders = 8\nmax_replication_slots = 8\n`;
    appendFileSync(conf(primary), settings(port));
    run('pg_ctl', ['-D', primary, '-l', join(dir, 'primary.log'), '-w', '-t', '60', 'start']);
    started.push(primary);
    let replicaUrl: string | null = null;
    if (o.replica) {
      const rport = await freePort();
      const replica = join(dir, 'replica');
      run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-D', replica, '-R', '-X', 'stream', '--no-sync']);
      appendFileSync(conf(replica), settings(rport));
      run('pg_ctl', ['-D', replica, '-l', join(dir, 'replica.log'), '-w', '-t', '60', 'start']);
      started.push(replica);
      replicaUrl = `postgres://postgres@127.0.0.1:${rport}/postgres`;
    }
    const restart = () => void run('pg_ctl', ['-D', primary, '-l', join(dir, 'primary.log'), '-m', 'fast', '-w', '-t', '60', 'restart']);
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, replicaUrl, restart, stop };
  } catch (e) {
    stop();
    throw e;
  }
}
