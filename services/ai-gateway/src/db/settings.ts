// SQL of platform.ai_settings: a project's AI settings (user access) kept by this service.
import type pg from 'pg';

export const settingsDb = (db: pg.Pool) => ({
  async get(ref: string): Promise<Record<string, unknown>> {
    return (await db.query<{ settings: Record<string, unknown> }>('select settings from platform.ai_settings where ref = $1', [ref])).rows[0]?.settings ?? {};
  },

  async put(ref: string, settings: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { rows } = await db.query<{ settings: Record<string, unknown> }>(
      `insert into platform.ai_settings (ref, settings) values ($1, $2) on conflict (ref) do update set settings = excluded.settings, updated_at = now()
       returning settings`,
      [ref, JSON.stringify(settings)],
    );
    return rows[0].settings;
  },
});

export type SettingsDb = ReturnType<typeof settingsDb>;
