// The locale a project database is created with. A database takes its cluster's default unless told otherwise, and
// clusters differ: Debian's initdb here gives C.UTF-8, the official postgres images (and pgvector's, in
// docker-compose.yml) en_US.utf8, a managed one whatever its operator chose. Text order follows it (REST's
// order=name, the documents API's sort and $gt on strings), so the same app sorted "B" before "a" on one install
// and after it on another. Project databases are C.UTF-8, as Supabase's hosted ones are (supabase/cli#1309): text
// in code point order, which is also MongoDB's order for strings, and no OS collation library whose upgrade can
// reorder (and so corrupt) text indexes. A database that is moved or restored keeps the locale it has.
import type pg from 'pg';
import { ident, literal } from '@basalt/db';

/** The libc locale of new project databases; `C` orders the same where the OS has no C.UTF-8. */
const PROJECT_LOCALE = 'C.UTF-8';

export interface DatabaseLocale {
  /** 'c' libc, 'i' ICU, 'b' builtin (Postgres 17); absent before Postgres 15, where every database is libc */
  provider?: string;
  collate: string;
  ctype: string;
  /** the ICU or builtin locale */
  locale?: string | null;
  /** ICU tailoring rules (Postgres 16) */
  icuRules?: string | null;
}

/** The locale a database was created with (pg_database's columns differ between Postgres 14 and 17). */
export async function databaseLocale(c: pg.ClientBase, db: string): Promise<DatabaseLocale> {
  const { rows: [row] } = await c.query<{ d: Record<string, string | null> }>('select to_jsonb(d) as d from pg_database d where datname = $1', [db]);
  if (!row) throw new Error(`database ${db} does not exist`);
  const d = row.d;
  return {
    provider: d.datlocprovider ?? undefined,
    collate: d.datcollate!,
    ctype: d.datctype!,
    locale: d.datlocale ?? d.daticulocale ?? null,
    icuRules: d.daticurules ?? null,
  };
}

/** The CREATE DATABASE options that give a database this locale (with TEMPLATE template0, whose locale is any). */
export function localeOptions(l: DatabaseLocale): string {
  const libc = `lc_collate ${literal(l.collate)} lc_ctype ${literal(l.ctype)}`;
  switch (l.provider) {
    case undefined: return libc;
    case 'i': return `locale_provider icu icu_locale ${literal(l.locale ?? 'und')} ${l.icuRules ? `icu_rules ${literal(l.icuRules)} ` : ''}${libc}`;
    case 'b': return `locale_provider builtin builtin_locale ${literal(l.locale ?? 'C')} ${libc}`;
    default: return `locale_provider libc ${libc}`;
  }
}

/** Whether a database orders text as project databases do (by code point, under libc's C or C.UTF-8). */
export function isProjectLocale(l: DatabaseLocale): boolean {
  return (l.provider === undefined || l.provider === 'c') && /^(C|POSIX|C\.UTF-?8)$/i.test(l.collate);
}

/**
 * Creates an empty database (from template0) with the project locale: C.UTF-8 for both collation and character
 * classes; where the OS lacks C.UTF-8, collation C (the same order) and template0's character classes. The provider
 * is named (libc) where Postgres has providers at all, which template0's row tells (15 and later).
 */
export async function createWithProjectLocale(c: pg.ClientBase, name: string): Promise<void> {
  const t0 = await databaseLocale(c, 'template0');
  const provider = t0.provider === undefined ? undefined : 'c';
  const create = (collate: string, ctype: string) =>
    c.query(`create database ${ident(name)} template template0 encoding 'UTF8' ${localeOptions({ provider, collate, ctype })}`);
  // 22023: invalid locale name
  await create(PROJECT_LOCALE, PROJECT_LOCALE).catch((e: { code?: string }) => (e.code === '22023' ? create('C', t0.ctype) : Promise.reject(e)));
}
