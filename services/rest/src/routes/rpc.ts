// /rest/v1/rpc/<fn> by GET (arguments in the query string, read-only) and POST (JSON body; read-write only
// for VOLATILE functions), with select/filters/order/paging on functions that return rows.
import { Router, type Request, type Response } from 'express';
import { restErrors } from '../errors.js';
import type { Limits } from '../domain/build.js';
import { aggregate, planRead, readResult, runRead } from '../domain/read.js';
import { applyRange, parsePrefer, parseQuery } from '../domain/request.js';
import { contentRange, contentType, negotiate, readStatus, singular, toCsv } from '../domain/respond.js';
import { callSql, pickFunction, resultShape, takesWholeBody } from '../domain/rpc.js';
import { ident, Sql } from '../domain/sql.js';
import { limitsOf, runStatement, runTx, searchOf, sendBody, withIndex } from './common.js';

export function rpcRoutes(config: { REST_MAX_ROWS: number; REST_MAX_EMBED_DEPTH: number; REST_MAX_FILTERS: number }) {
  const limits = limitsOf(config);
  const router = Router();
  router.get('/rpc/:fn', (req, res) => call(req, res, limits));
  router.head('/rpc/:fn', (req, res) => call(req, res, limits));
  router.post('/rpc/:fn', (req, res) => call(req, res, limits));
  router.all('/rpc/:fn', (req) => {
    throw restErrors.rpcMethod(req.method);
  });
  return router;
}

async function call(req: Request, res: Response, limits: Limits) {
  const media = negotiate(req.headers.accept);
  const prefer = parsePrefer(req.headers.prefer);
  const name = String(req.params.fn);
  const isGet = req.method !== 'POST';
  const search = searchOf(req);
  const index0 = await req.rest.index();
  const argNames = new Set(index0.fn(req.rest.schema, name).flatMap((f) => f.args.map((a) => a.name)));
  const parsed = parseQuery(search, (k) => isGet && argNames.has(k));
  applyRange(parsed.spec, typeof req.headers.range === 'string' ? req.headers.range : undefined);
  const body: unknown = isGet ? undefined : req.body;
  if (!isGet && body !== undefined && (typeof body !== 'object' || body === null)) throw restErrors.badBody('Invalid JSON body for a function call');
  const args: Record<string, unknown> = isGet ? Object.fromEntries(parsed.rest) : ((body as Record<string, unknown> | undefined) ?? {});

  const planned = await withIndex(req, (index) => {
    const f = pickFunction(index, req.rest.schema, name, takesWholeBody(index.fn(req.rest.schema, name)[0] ?? ({ args: [] } as never)) ? [] : Object.keys(args));
    const q = new Sql();
    const callExpr = callSql(q, f, args, body);
    const shape = resultShape(index, f);
    if (shape.kind !== 'rows') return { f, shape, q, callExpr, plan: null };
    const from = shape.scalarColumn ? `${callExpr} AS "t0"(${ident(shape.scalarColumn)})` : `${callExpr} AS "t0"`;
    return { f, shape, q, callExpr, plan: planRead(index, limits, shape.table, from, 't0', parsed.spec, q) };
  });
  const readOnly = isGet || planned.f.volatility !== 'v';
  const { shape, plan } = planned;
  if (shape.kind === 'void' || shape.kind === 'scalar') {
    const text = shape.kind === 'void' ? `SELECT ${planned.callExpr} AS body` : `SELECT to_json(${planned.callExpr})::text AS body`;
    const value = prefer.tx === 'rollback'
      ? await runTx(req, { readOnly, rollback: true }, async (c) => (await c.query<{ body: string | null }>(text, planned.q.params)).rows[0].body)
      : (await runStatement(req, readOnly, shape.kind === 'void' ? `SELECT ${planned.callExpr}::text AS body` : text, planned.q.params))[0].body;
    if (shape.kind === 'void' || prefer.return === 'minimal') return sendBody(req, res, 204, null, contentType(media));
    return sendBody(req, res, 200, value ?? 'null', contentType(media === 'csv' ? 'json' : media));
  }
  const simple = prefer.tx !== 'rollback' && prefer.maxAffected === null && prefer.count !== 'planned' && prefer.count !== 'estimated';
  const result = simple
    ? readResult((await runStatement(req, readOnly, aggregate(plan!, prefer.count === 'exact', shape.scalarColumn), plan!.q.params))[0])
    : await runTx(req, { readOnly, rollback: prefer.tx === 'rollback' }, async (c) => {
      const r = await runRead(c, plan!, prefer.count, limits.maxRows, shape.scalarColumn);
      if (prefer.maxAffected !== null && r.n > prefer.maxAffected) throw restErrors.maxAffected(r.n);
      return r;
    });
  if (prefer.return === 'minimal') return sendBody(req, res, 204, null, contentType(media));
  if (!shape.setof) {
    // A function returning one composite answers an object (or null), not an array.
    const one = result.n ? result.body.slice(1, -1).trim() : 'null';
    return sendBody(req, res, 200, media === 'csv' ? toCsv(result.body) : one, contentType(media === 'csv' ? 'csv' : media));
  }
  const status = readStatus(plan!.offset, result.n, result.total);
  res.setHeader('content-range', contentRange(plan!.offset, result.n, result.total));
  const out = media === 'object' ? singular(result.body, result.n) : media === 'csv' ? toCsv(result.body) : result.body;
  sendBody(req, res, status, out, contentType(media));
}
