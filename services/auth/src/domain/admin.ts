// The admin API (service_role only): users by id, created confirmed or not, updated, banned, deleted.
import { withTransaction } from '@basalt/db';
import type { AuthContext } from '../context.js';
import { identitiesDb } from '../db/identities.js';
import { sessionsDb } from '../db/sessions.js';
import { usersDb, NOW, type UserRow } from '../db/users.js';
import { authErrors } from '../errors.js';
import { applyEmail } from './current-user.js';
import { checkPasswordStrength, type Passwords } from './password.js';
import { userJson, type UserJson } from './user-json.js';
import { parsePhone } from './phone.js';
import { isUuid, METADATA_MAX_CHARS, metadataTooLarge, parseEmail, parseMetadata } from './validate.js';

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's longest duration (2^63 - 1 ns, about 292 years): time.ParseDuration refuses more as an invalid duration. */
const MAX_GO_DURATION_MS = 9_223_372_036_854;

/** Go durations ("24h", "1h30m", "90s") as GoTrue's ban_duration; "none" lifts a ban. */
export function banUntil(value: unknown): Date | null {
  if (value === 'none') return null;
  const invalid = () => authErrors.validation('invalid format for ban duration: time: invalid duration');
  if (typeof value !== 'string' || !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)) throw invalid();
  let ms = 0;
  for (const [, n, , unit] of value.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * UNITS[unit];
  // past it the date would not be one Postgres (or Date) can hold
  if (!(ms <= MAX_GO_DURATION_MS)) throw invalid();
  return new Date(Date.now() + ms);
}

export async function getUserById(ctx: AuthContext, id: string): Promise<UserRow> {
  if (!isUuid(id)) throw authErrors.userNotFound();
  const u = await usersDb.byId(ctx.db, id);
  if (!u) throw authErrors.userNotFound();
  return u;
}

/** GoTrue's paginate(): page and per_page are unsigned integers (strconv.ParseUint), anything else is a 400. */
function paginationParam(raw: unknown, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const text = String(raw);
  if (!/^[0-9]+$/.test(text)) throw authErrors.validation(`Bad Pagination Parameters: strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`);
  const n = BigInt(text);
  if (n > 18446744073709551615n) throw authErrors.validation(`Bad Pagination Parameters: strconv.ParseUint: parsing ${JSON.stringify(text)}: value out of range`);
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

export async function listUsers(ctx: AuthContext, pageRaw: unknown, perPageRaw: unknown) {
  const page = Math.max(1, paginationParam(pageRaw, 1));
  const perPage = Math.min(1000, Math.max(1, paginationParam(perPageRaw, 50)));
  const { users, total } = await usersDb.list(ctx.db, page, perPage);
  return { page, perPage, total, users: users.map(userJson) };
}

export async function createUser(ctx: AuthContext, pw: Passwords, body: Record<string, unknown>): Promise<UserJson> {
  if ((body.email === undefined || body.email === '') && (body.phone === undefined || body.phone === '')) {
    throw authErrors.validation('Cannot create a user without either an email or phone');
  }
  const email = body.email !== undefined && body.email !== '' ? parseEmail(body.email) : null;
  const phone = body.phone !== undefined && body.phone !== '' ? parsePhone(body.phone) : null;
  const hash = body.password !== undefined ? await pw.hash(checkPasswordStrength(body.password, ctx.settings)) : null;
  if (body.id !== undefined && !isUuid(body.id)) throw authErrors.validation('id must be a UUID');
  const role = body.role === undefined ? undefined : parseRole(body.role);
  const banned = body.ban_duration !== undefined ? banUntil(body.ban_duration) : null;
  if (email && (await usersDb.byEmail(ctx.db, email))) throw authErrors.emailExists();
  if (phone && (await usersDb.byPhone(ctx.db, phone))) throw authErrors.phoneExists();
  const providers = [...(email ? ['email'] : []), ...(phone ? ['phone'] : [])];
  try {
    const id = await withTransaction(ctx.db, async (db) => {
      const id = await usersDb.insert(db, {
        id: body.id as string | undefined, email, phone, passwordHash: hash, emailConfirmed: body.email_confirm === true,
        phoneConfirmed: body.phone_confirm === true, role,
        appMetadata: { provider: providers[0], providers, ...parseMetadata(body.app_metadata, 'app_metadata') },
        userMetadata: parseMetadata(body.user_metadata ?? body.data, 'user_metadata'),
      });
      const verified = { email_verified: email !== null && body.email_confirm === true, phone_verified: phone !== null && body.phone_confirm === true };
      if (email) await identitiesDb.upsert(db, id, 'email', id, { sub: id, email, ...verified });
      else await identitiesDb.upsert(db, id, 'phone', id, { sub: id, phone, ...verified });
      if (banned) await usersDb.update(db, id, { banned_until: banned });
      return id;
    });
    return userJson((await usersDb.byId(ctx.db, id))!);
  } catch (e) {
    if ((e as { code?: string; constraint?: string }).code === '23505') throw (e as { constraint?: string }).constraint?.includes('phone') ? authErrors.phoneExists() : authErrors.emailExists();
    throw e;
  }
}

/** A user's role, as GoTrue's admin params take it: a string (its column is varchar(255)). */
function parseRole(value: unknown): string {
  if (typeof value !== 'string' || value.length > 255) throw authErrors.validation('role must be a string of at most 255 characters');
  return value;
}

export async function updateUserById(ctx: AuthContext, pw: Passwords, id: string, body: Record<string, unknown>): Promise<UserJson> {
  const user = await getUserById(ctx, id);
  const email = body.email !== undefined ? parseEmail(body.email) : null;
  const hash = body.password !== undefined ? await pw.hash(checkPasswordStrength(body.password, ctx.settings)) : null;
  const banned = body.ban_duration !== undefined ? banUntil(body.ban_duration) : undefined;
  await withTransaction(ctx.db, async (db) => {
    if (email && email !== user.email) {
      const taken = await usersDb.byEmail(db, email);
      if (taken && taken.id !== user.id) throw authErrors.emailExists();
      await applyEmail(db, user, email);
      if (body.email_confirm === false) await usersDb.update(db, id, { email_confirmed_at: null });
    } else if (body.email_confirm === true && !user.email_confirmed_at) {
      await usersDb.update(db, id, { email_confirmed_at: NOW });
    }
    if (body.phone !== undefined && body.phone !== '') {
      const phone = parsePhone(body.phone);
      const taken = await usersDb.byPhone(db, phone);
      if (taken && taken.id !== user.id) throw authErrors.phoneExists();
      if (phone !== user.phone) await usersDb.update(db, id, { phone, phone_confirmed_at: body.phone_confirm === true ? NOW : null });
    }
    if (body.phone_confirm === true && !user.phone_confirmed_at && user.phone) await usersDb.update(db, id, { phone_confirmed_at: NOW });
    if (hash) await usersDb.update(db, id, { encrypted_password: hash });
    if (body.role !== undefined) await usersDb.update(db, id, { role: parseRole(body.role) });
    for (const [field, column] of [['user_metadata', 'raw_user_meta_data'], ['app_metadata', 'raw_app_meta_data']] as const) {
      if (body[field] === undefined) continue;
      if (!(await usersDb.mergeMetadata(db, id, column, parseMetadata(body[field], field), METADATA_MAX_CHARS))) throw metadataTooLarge(field);
    }
    if (banned !== undefined) {
      await usersDb.update(db, id, { banned_until: banned });
      if (banned) await sessionsDb.removeForUser(db, id, null);
    }
  });
  return userJson((await usersDb.byId(ctx.db, id))!);
}

export async function deleteUser(ctx: AuthContext, id: string, soft: boolean): Promise<void> {
  await getUserById(ctx, id);
  if (soft) await withTransaction(ctx.db, (db) => usersDb.softDelete(db, id));
  else await usersDb.remove(ctx.db, id);
}
