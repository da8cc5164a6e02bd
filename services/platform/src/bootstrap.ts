// Start-up work of the control plane: control database and migrations, the default cluster,
// the tenant template, existing project databases brought up to date, and the configured platform token.
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { databaseName } from '@basalt/config';
import { sealSecrets, type SecretBox } from '@basalt/crypto';
import { migrate, readMigrations } from '@basalt/db';
import type { Logger } from '@basalt/http';
import { migrateTenantDatabase, prepareTemplate } from '@basalt/tenant-schema';
import { checkMasterKey, MasterKeyMismatch } from '@basalt/tenancy';
import { clustersDb } from './db/clusters.js';

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

export const templateNameFor = (databaseUrl: string) => `${databaseName(databaseUrl)}_tenant_template`.slice(0, 63);

export async function bootstrap(control: pg.Pool, secrets: SecretBox, databaseUrl: string, log: Logger): Promise<string> {
  // Before anything is written: a key that cannot open what is stored stops here, with the ways out.
  const key = await checkMasterKey(control, secrets);
  if (key.state === 'mismatch') throw new MasterKeyMismatch(databaseName(databaseUrl), key.projects);
  const client = await control.connect();
  try {
    const applied = await migrate(client, 'platform', await readMigrations(MIGRATIONS));
    if (applied.length) log.info({ applied }, 'control migrations applied');
    // Idempotent hardening: project logins must not connect to the control database.
    await client.query(`revoke connect on database "${databaseName(databaseUrl).replace(/"/g, '""')}" from public`);
  } finally {
    client.release();
  }
  const clusters = clustersDb(control);
  const existing = await clusters.get('default');
  if (!existing || secrets.decrypt(existing.admin_url_enc) !== databaseUrl) await clusters.upsert('default', secrets.encrypt(databaseUrl));

  await sealStoredSecrets(control, secrets, log);

  const template = templateNameFor(databaseUrl);
  const tenantApplied = await prepareTemplate(databaseUrl, template, (why) => log.warn(why));
  if (tenantApplied.length) {
    log.info({ applied: tenantApplied }, 'tenant template migrated');
    const { rows } = await control.query<{ db_name: string; admin_url_enc: string }>(
      `select p.db_name, c.admin_url_enc from platform.projects p join platform.clusters c on c.id = p.cluster_id where p.status = 'active'`,
    );
    for (const r of rows) await migrateTenantDatabase(secrets.decrypt(r.admin_url_enc), r.db_name);
  }
  return template;
}

/**
 * Secrets written into project settings before they were sealed are sealed in place, once: the step is recorded
 * beside the control migrations, and every later write seals on its way in (idempotent if two replicas race).
 */
async function sealStoredSecrets(control: pg.Pool, secrets: SecretBox, log: Logger): Promise<void> {
  const STEP = ['platform', 'seal-settings-secrets'];
  if ((await control.query('select 1 from basalt_migrations.applied where owner = $1 and name = $2', STEP)).rowCount) return;
  const { rows } = await control.query<{ ref: string; settings: Record<string, unknown> }>('select ref, settings from platform.projects');
  for (const r of rows) {
    const sealed = sealSecrets(r.settings, secrets);
    if (JSON.stringify(sealed) === JSON.stringify(r.settings)) continue;
    await control.query('update platform.projects set settings = $2 where ref = $1', [r.ref, sealed]);
    log.info({ ref: r.ref }, 'sealed secrets in project settings');
  }
  await control.query('insert into basalt_migrations.applied (owner, name) values ($1, $2) on conflict do nothing', STEP);
}
