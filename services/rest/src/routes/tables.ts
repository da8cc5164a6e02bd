// /rest/v1/<table>: reads (GET/HEAD) and writes (POST/PATCH/DELETE) of tables and views.
import { Router, type Request, type Response } from 'express';
import { queryShape } from '../db/prepared.js';
import { restErrors } from '../errors.js';
import type { Limits } from '../domain/build.js';
import { aggregate, planRead, readResult, runRead } from '../domain/read.js';
import { applyRange, parsePrefer, parseQuery } from '../domain/request.js';
import { contentRange, contentType, negotiate, readStatus, singular, stripsNulls, toCsv } from '../domain/respond.js';
import { ident } from '../domain/sql.js';
import { writeStatement } from '../domain/write.js';
import { parseCsv } from '../domain/csv.js';
import type { ParsedQuery } from '../domain/request.js';
import { limitsOf, runStatement, runTx, searchOf, sendBody, withIndex } from './common.js';

export function tableRoutes(config: { REST_MAX_ROWS: number; REST_MAX_EMBED_DEPTH: number; REST_MAX_FILTERS: number }) {
  const limits = limitsOf(config);
  const router = Router();
  router.get('/:table', (req, res) => read(req, res, limits));
  router.head('/:table', (req, res) => read(req, res, limits));
  router.post('/:table', (req, res) => write(req, res, limits, 'POST'));
  router.patch('/:table', (req, res) => write(req, res, limits, 'PATCH'));
  router.delete('/:table', (req, res) => write(req, res, limits, 'DELETE'));
  router.put('/:table', (req, res) => write(req, res, limits, 'PUT'));
  return router;
}

async function read(req: Request, res: Response, limits: Limits) {
  const media = negotiate(req.headers.accept);
  const prefer = parsePrefer(req.headers.prefer);
  const parsed = parseQuery(searchOf(req));
  applyRange(parsed.spec, typeof req.headers.range === 'string' ? req.headers.range : undefined);
  const name = String(req.params.table);
  const plan = await withIndex(req, (index) => {
    const t = index.requireTable(req.rest.schema, name);
    return planRead(index, limits, t, `${ident(t.schema)}.${ident(t.name)} AS "t0"`, 't0', parsed.spec);
  });
  const result = prefer.count === 'planned' || prefer.count === 'estimated'
    ? await runTx(req, { readOnly: true, rollback: false }, (c) => runRead(c, plan, prefer.count, limits.maxRows))
    : readResult((await runStatement(req, true, aggregate(plan, prefer.count === 'exact', null, stripsNulls(req.headers.accept)), plan.q.params))[0]);
  const status = readStatus(plan.offset, result.n, result.total);
  res.setHeader('content-range', contentRange(plan.offset, result.n, result.total));
  if (prefer.count) res.setHeader('preference-applied', `count=${prefer.count}`);
  const body = media === 'object' ? singular(result.body, result.n) : media === 'csv' ? toCsv(result.body) : result.body;
  sendBody(req, res, status, body, contentType(media));
}

async function write(req: Request, res: Response, limits: Limits, verb: 'POST' | 'PATCH' | 'DELETE' | 'PUT') {
  const media = negotiate(req.headers.accept);
  const prefer = parsePrefer(req.headers.prefer);
  const parsed = parseQuery(searchOf(req));
  if (typeof req.body === 'string' && req.is('text/csv')) req.body = parseCsv(req.body);
  const method = verb === 'PUT' ? 'POST' : verb;
  if (verb === 'PUT') prefer.resolution = 'merge-duplicates';
  const name = String(req.params.table);
  const representation = prefer.return === 'representation';
  if (method !== 'DELETE' && (req.body === undefined || (typeof req.body === 'object' && req.body !== null && !Object.keys(req.body).length && !Array.isArray(req.body) && req.headers['content-length'] === '0'))) {
    throw restErrors.badBody('Empty or invalid json');
  }
  const stmt = await withIndex(req, (index) => {
    const t = index.requireTable(req.rest.schema, name);
    if (verb === 'PUT') checkPut(t.pk, parsed, req.body);
    return { t, ...writeStatement(index, limits, { method, table: t, body: req.body, columns: parsed.columns, onConflict: parsed.onConflict, prefer, spec: parsed.spec, representation: representation || media === 'object' }) };
  });
  // Checks that must see the rows before deciding to commit need a real transaction; the rest is one round trip.
  const needsTx = prefer.tx === 'rollback' || media === 'object' || (prefer.maxAffected !== null && method !== 'POST');
  const out = !needsTx ? writeRow((await runStatement(req, false, stmt.sql, stmt.params))[0]) : await runTx(req, { readOnly: false, rollback: prefer.tx === 'rollback' }, async (c) => {
    const { rows } = await queryShape<{ n: number; body: string | null; loc: string | null; inserted: number | null }>(c, stmt.sql, stmt.params);
    const r = rows[0];
    if (prefer.maxAffected !== null && method !== 'POST' && r.n > prefer.maxAffected) throw restErrors.maxAffected(r.n);
    if (media === 'object' && r.n !== 1) throw restErrors.singular(r.n);
    return r;
  });
  const applied = [prefer.return && `return=${prefer.return}`, prefer.count && `count=${prefer.count}`, prefer.resolution && `resolution=${prefer.resolution}`,
    prefer.missing && 'missing=default', prefer.tx && `tx=${prefer.tx}`, prefer.maxAffected !== null && `max-affected=${prefer.maxAffected}`].filter(Boolean);
  if (applied.length) res.setHeader('preference-applied', applied.join(', '));
  const total = prefer.count ? String(out.n) : '*';
  res.setHeader('content-range', method === 'PATCH' && out.n > 0 ? `0-${out.n - 1}/${total}` : `*/${total}`);
  if (out.loc) {
    const pk = JSON.parse(out.loc) as Record<string, unknown>;
    res.setHeader('location', `/${encodeURIComponent(name)}?${Object.entries(pk).map(([k, v]) => `${encodeURIComponent(k)}=eq.${encodeURIComponent(String(v))}`).join('&')}`);
  }
  const created = method === 'POST' && !(out.inserted === 0 && out.n > 0) ? 201 : 200;
  if (representation || media === 'object') {
    const body = media === 'object' ? singular(out.body!, out.n) : media === 'csv' ? toCsv(out.body!) : out.body!;
    return sendBody(req, res, created, body, contentType(media));
  }
  sendBody(req, res, method === 'POST' ? 201 : 204, null, contentType(media));
}

/** PUT /t?pk=eq.v upserts exactly the row its primary-key filters name (PGRST105/114/115 otherwise). */
function checkPut(pk: string[], q: ParsedQuery, body: unknown) {
  if (q.spec.limit.size || q.spec.offset.size) throw restErrors.putPaging();
  const conds = q.spec.conds.get('') ?? [];
  const eqs = new Map(conds.map((c) => (c.kind === 'filter' && c.op.op === 'eq' && !c.op.negate && !c.field.path.length ? [c.field.name, c.op.value] : ['', ''])));
  if (!pk.length || conds.length !== pk.length || !pk.every((k) => eqs.has(k))) {
    throw restErrors.putFilters();
  }
  const row = Array.isArray(body) ? (body.length === 1 ? body[0] : null) : body;
  if (!row || typeof row !== 'object' || !pk.every((k) => String((row as Record<string, unknown>)[k]) === eqs.get(k))) {
    throw restErrors.putMismatch();
  }
}

const writeRow = (r: Record<string, string | null>) => ({ n: Number(r.n), body: r.body, loc: r.loc, inserted: r.inserted === null ? null : Number(r.inserted) });
