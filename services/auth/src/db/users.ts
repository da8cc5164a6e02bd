// SQL of the user aggregate: auth.users with its identities and factors, loaded in one round trip.
import type pg from 'pg';

export type Db = pg.Pool | pg.PoolClient;

export interface UserRow {
  id: string;
  aud: string;
  role: string;
  email: string | null;
  encrypted_password: string | null;
  email_confirmed_at: Date | null;
  phone: string | null;
  phone_confirmed_at: Date | null;
  /** a new number waiting for its code */
  phone_change: string | null;
  phone_change_sent_at: Date | null;
  confirmed_at: Date | null;
  confirmation_sent_at: Date | null;
  recovery_sent_at: Date | null;
  email_change: string | null;
  email_change_sent_at: Date | null;
  reauthentication_sent_at: Date | null;
  invited_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown>;
  raw_user_meta_data: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
  banned_until: Date | null;
  deleted_at: Date | null;
  is_anonymous: boolean;
  identities: IdentityRow[];
  factors: FactorRow[];
}

export interface IdentityRow {
  id: string;
  provider_id: string;
  user_id: string;
  identity_data: Record<string, unknown>;
  provider: string;
  email: string | null;
  last_sign_in_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface FactorRow {
  id: string;
  friendly_name: string | null;
  factor_type: string;
  status: string;
  phone: string | null;
  created_at: string;
  updated_at: string;
  last_challenged_at: string | null;
}

const USER = `select u.id, u.aud, u.role, u.email, u.encrypted_password, u.email_confirmed_at, u.phone, u.phone_confirmed_at,
    nullif(u.phone_change, '') as phone_change, u.phone_change_sent_at, u.confirmed_at, u.confirmation_sent_at, u.recovery_sent_at, u.email_change, u.email_change_sent_at, u.reauthentication_sent_at,
    u.invited_at, u.last_sign_in_at, u.raw_app_meta_data, u.raw_user_meta_data, u.created_at, u.updated_at, u.banned_until,
    u.deleted_at, u.is_anonymous,
    coalesce((select json_agg(i order by i.created_at) from (select id, provider_id, user_id, identity_data, provider, email,
      last_sign_in_at, created_at, updated_at from auth.identities where user_id = u.id) i), '[]') as identities,
    coalesce((select json_agg(f order by f.created_at) from (select id, friendly_name, factor_type, status, phone, created_at,
      updated_at, last_challenged_at from auth.mfa_factors where user_id = u.id) f), '[]') as factors
  from auth.users u`;

export interface NewUser {
  id?: string;
  email: string | null;
  phone?: string | null;
  passwordHash: string | null;
  emailConfirmed: boolean;
  phoneConfirmed?: boolean;
  appMetadata: Record<string, unknown>;
  userMetadata: Record<string, unknown>;
  role?: string;
  isAnonymous?: boolean;
  invited?: boolean;
}

/** The user select with more columns and a different FROM (which must bind auth.users as u). */
export const selectUser = (columns: string, from = 'auth.users u') => USER.replace('from auth.users u', `${columns} from ${from}`);

const TIMESTAMPS = ['email_confirmed_at', 'phone_confirmed_at', 'phone_change_sent_at', 'confirmed_at', 'confirmation_sent_at',
  'recovery_sent_at', 'email_change_sent_at', 'reauthentication_sent_at', 'invited_at', 'last_sign_in_at', 'created_at',
  'updated_at', 'banned_until', 'deleted_at'] as const;

/**
 * A user read as one json column (`row_to_json` of a selectUser row): node-postgres describes and parses each of
 * a row's ~30 columns on every execution, which costs the hot paths more than one JSON.parse. Timestamps come back
 * as ISO strings and are made Dates here, as the column-wise read gives them.
 */
export function userFromJson<T extends object>(row: Record<string, unknown>): UserRow & T {
  for (const k of TIMESTAMPS) if (typeof row[k] === 'string') row[k] = new Date(row[k] as string);
  return row as unknown as UserRow & T;
}

// The hot lookups run as named (prepared) statements: planned once per connection, not on every request.
const BY_ID = { name: 'auth_user_by_id', text: `${USER} where u.id = $1` };
const BY_ID_WITH_SESSION = {
  name: 'auth_user_by_id_with_session',
  text: `select row_to_json(r) as r from (${selectUser(`, exists (select 1 from auth.sessions s where s.id = $2 and s.user_id = u.id
    and (s.not_after is null or s.not_after > now())) as session_ok`)} where u.id = $1) r`,
};
// The predicates of users_email_partial_key, so the lookup uses that index.
const BY_EMAIL = {
  name: 'auth_user_by_email',
  text: `${USER} where lower(u.email) = lower($1) and u.email is not null and u.is_sso_user = false and u.deleted_at is null`,
};

const BY_PHONE = { name: 'auth_user_by_phone', text: `${USER} where u.phone = $1 and u.deleted_at is null` };

export const usersDb = {
  async byId(db: Db, id: string): Promise<UserRow | null> {
    const { rows } = await db.query<UserRow>({ ...BY_ID, values: [id] });
    return rows[0] ?? null;
  },

  /** With a session check folded in, for GET /user: one round trip per request. */
  async byIdWithSession(db: Db, id: string, sessionId: string | null): Promise<(UserRow & { session_ok: boolean }) | null> {
    const { rows } = await db.query<{ r: Record<string, unknown> }>({ ...BY_ID_WITH_SESSION, values: [id, sessionId] });
    return rows[0] ? userFromJson<{ session_ok: boolean }>(rows[0].r) : null;
  },

  async byEmail(db: Db, email: string): Promise<UserRow | null> {
    const { rows } = await db.query<UserRow>({ ...BY_EMAIL, values: [email] });
    return rows[0] ?? null;
  },

  /** Numbers are stored as GoTrue stores them: E.164 digits without the +. */
  async byPhone(db: Db, phone: string): Promise<UserRow | null> {
    const { rows } = await db.query<UserRow>({ ...BY_PHONE, values: [phone] });
    return rows[0] ?? null;
  },

  /** The user waiting to move to this number. */
  async byPhoneChange(db: Db, phone: string): Promise<UserRow | null> {
    const { rows } = await db.query<{ id: string }>('select id from auth.users where phone_change = $1 and deleted_at is null limit 1', [phone]);
    return rows[0] ? usersDb.byId(db, rows[0].id) : null;
  },

  /** The user with a pending change to this address (or owning it), for resend of email_change. */
  async byEmailChange(db: Db, email: string): Promise<UserRow | null> {
    const { rows } = await db.query<{ id: string }>(
      'select id from auth.users where lower(email_change) = lower($1) or lower(email) = lower($1) order by email_change is null limit 1',
      [email],
    );
    return rows[0] ? usersDb.byId(db, rows[0].id) : null;
  },

  async insert(db: Db, u: NewUser): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      `insert into auth.users (id, email, phone, encrypted_password, email_confirmed_at, phone_confirmed_at, raw_app_meta_data,
         raw_user_meta_data, role, is_anonymous, invited_at)
       values (coalesce($1::uuid, gen_random_uuid()), $2, $3, $4, case when $5 then now() end, case when $6 then now() end,
         $7, $8, coalesce($9, 'authenticated'), $10, case when $11 then now() end)
       returning id`,
      [u.id ?? null, u.email, u.phone ?? null, u.passwordHash, u.emailConfirmed, u.phoneConfirmed ?? false,
        u.appMetadata, u.userMetadata, u.role ?? null, u.isAnonymous ?? false, u.invited ?? false],
    );
    return rows[0].id;
  },

  /** Sets the given columns (names come from our code, never from a request). */
  async update(db: Db, id: string, patch: Record<string, unknown>): Promise<void> {
    const cols = Object.keys(patch);
    if (cols.length === 0) return;
    const params: unknown[] = [id];
    const sets = cols.map((c) => {
      if (patch[c] === NOW) return `${c} = now()`;
      params.push(patch[c]);
      return `${c} = $${params.length}`;
    });
    await db.query(`update auth.users set ${sets.join(', ')}, updated_at = now() where id = $1`, params);
  },

  /**
   * Merges `data` into the column; false, with nothing written, when the merged value would be longer than
   * `maxChars` as JSON text (null: no bound). The bound is checked on the row as updated, so merges racing each
   * other cannot add up past it.
   */
  async mergeMetadata(db: Db, id: string, column: 'raw_user_meta_data' | 'raw_app_meta_data', data: Record<string, unknown>, maxChars: number | null = null): Promise<boolean> {
    // Keys set to null are removed, as GoTrue does for metadata updates.
    const merged = `jsonb_strip_nulls(${column} || $2::jsonb)`;
    const r = await db.query(
      `update auth.users set ${column} = ${merged}, updated_at = now() where id = $1 and ($3::int is null or length(${merged}::text) <= $3)`,
      [id, data, maxChars],
    );
    return (r.rowCount ?? 0) > 0;
  },


  async list(db: Db, page: number, perPage: number): Promise<{ users: UserRow[]; total: number }> {
    const { rows } = await db.query<UserRow & { total: string }>(
      `${USER.replace('from auth.users u', ', count(*) over () as total from auth.users u')}
       order by u.created_at desc, u.id limit $1 offset $2`,
      [perPage, (page - 1) * perPage],
    );
    const total = rows[0] ? Number(rows[0].total) : Number((await db.query('select count(*) from auth.users')).rows[0].count);
    return { users: rows, total };
  },

  async remove(db: Db, id: string): Promise<boolean> {
    return ((await db.query('delete from auth.users where id = $1', [id])).rowCount ?? 0) > 0;
  },

  /** GoTrue's soft delete: the row stays (for foreign keys in app tables) but loses every way to sign in. */
  async softDelete(db: Db, id: string): Promise<boolean> {
    const r = await db.query(
      `update auth.users set deleted_at = now(), email = null, phone = null, encrypted_password = null,
         raw_app_meta_data = '{}', raw_user_meta_data = '{}', updated_at = now() where id = $1 and deleted_at is null`,
      [id],
    );
    await db.query('delete from auth.identities where user_id = $1', [id]);
    await db.query('delete from auth.sessions where user_id = $1', [id]);
    return (r.rowCount ?? 0) > 0;
  },
};

const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === '23505';

/** Thrown where a race is seen without a unique violation (an identity linked meanwhile): it reads as one. */
export const createdMeanwhile = () => Object.assign(new Error('created meanwhile by a concurrent request'), { code: '23505' });

/**
 * Runs `attempt` once more when it lost a race to create the same user (a unique violation on its address or
 * number): two first requests for a new address both find no user and both insert one; the second try finds the
 * user the winner created and goes on with it, as a request that came a moment later would.
 */
export async function onceMoreIfCreatedMeanwhile<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    return attempt();
  }
}

/** Marker for "set this column to now()" in usersDb.update. */
export const NOW = Symbol('now');
