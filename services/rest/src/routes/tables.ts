// /rest/v1/<table>: reads (GET/HEAD) and writes (POST/PATCH/DELETE) of tables and views.
import { Router, type Request, type Response } from 'express';
import { queryShape } from '../db/prepared.js';
import { restErrors } from '../errors.js';
import type { Limits } from '../domain/build.js';
import { planRead, runRead } from '../domain/read.js';
import { applyRange, parsePrefer, parseQuery } from '../domain/request.js';
import { contentRange, contentType, negotiate, readStatus, singular, toCsv } from '../domain/respond.js';
import { ident } from '../domain/sql.js';
import { writeStatement } from '../domain/write.js';
import { limitsOf, runTx, searchOf, sendBody, withIndex } from './common.js';

export function tableRoutes(config: { REST_MAX_ROWS: number; REST_MAX_EMBED_DEPTH: number; REST_MAX_FILTERS: number }) {
  const limits = limitsOf(config);
  const router = Router();
  router.get('/:table', (req, res) => read(req, res, limits));
  router.head('/:table', (req, res) => read(req, res, limits));
  router.post('/:table', (req, res) => write(req, res, limits, 'POST'));
  router.patch('/:table', (req, res) => write(req, res, limits, 'PATCH'));
  router.delete('/:table', (req, res) => write(req, res, limits, 'DELETE'));
  router.put('/:table', () => {
    throw restErrors.notImplemented('PUT upsert');
  });
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
  const result = await runTx(req, { readOnly: true, rollback: false }, (c) => runRead(c, plan, prefer.count, limits.maxRows));
  const status = readStatus(plan.offset, result.n, result.total);
  res.setHeader('content-range', contentRange(plan.offset, result.n, result.total));
  if (prefer.count) res.setHeader('preference-applied', `count=${prefer.count}`);
  const body = media === 'object' ? singular(result.body, result.n) : media === 'csv' ? toCsv(result.body) : result.body;
  sendBody(req, res, status, body, contentType(media));
}

async function write(req: Request, res: Response, limits: Limits, method: 'POST' | 'PATCH' | 'DELETE') {
  const media = negotiate(req.headers.accept);
  const prefer = parsePrefer(req.headers.prefer);
  const parsed = parseQuery(searchOf(req));
  const name = String(req.params.table);
  const representation = prefer.return === 'representation';
  if (method !== 'DELETE' && (req.body === undefined || (typeof req.body === 'object' && req.body !== null && !Object.keys(req.body).length && !Array.isArray(req.body) && req.headers['content-length'] === '0'))) {
    throw restErrors.badBody('Empty or invalid json');
  }
  const stmt = await withIndex(req, (index) => {
    const t = index.requireTable(req.rest.schema, name);
    return { t, ...writeStatement(index, limits, { method, table: t, body: req.body, columns: parsed.columns, onConflict: parsed.onConflict, prefer, spec: parsed.spec, representation: representation || media === 'object' }) };
  });
  const out = await runTx(req, { readOnly: false, rollback: prefer.tx === 'rollback' }, async (c) => {
    const { rows } = await queryShape<{ n: number; body: string | null; loc: string | null }>(c, stmt.sql, stmt.params);
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
  const created = method === 'POST' ? 201 : 200;
  if (representation || media === 'object') {
    const body = media === 'object' ? singular(out.body!, out.n) : media === 'csv' ? toCsv(out.body!) : out.body!;
    return sendBody(req, res, created, body, contentType(media));
  }
  sendBody(req, res, method === 'POST' ? 201 : 204, null, contentType(media));
}
