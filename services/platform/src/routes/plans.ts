// /platform/v1/plans: the plans projects are on, each a set of quotas (null = unlimited). Operator tokens only
// (mounted behind requireUnscoped in app.ts). A project's plan is changed with PATCH /projects/{ref} {plan}.
//   GET /plans              → [{name, default, quotas, projects, created_at, updated_at}]
//   GET /plans/:name
//   PUT /plans/:name {quotas} → 201 created | 200 replaced; quotas not named are unlimited
//   DELETE /plans/:name       → 204; 409 while a project is on it or it is the default plan
import { z } from 'zod';
import { defineRoute } from '@basalt/http';
import { QUOTA_NAMES, type QuotaName } from '@basalt/tenancy';
import type { PlansDomain } from '../domain/plans.js';

const PlanName = z.object({ name: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'a plan name: lower-case letters, digits, _ and -, starting with a letter') });

// A connection limit or a statement timeout of 0 would lock the project out rather than limit it, and a CPU cap
// under the watchdog's 100 ms tick could not be kept as set.
const quota = (name: QuotaName) => {
  const min = name === 'db_connections' || name === 'statement_timeout_ms' ? 1 : name === 'fn_cpu_ms' ? 100 : 0;
  return z.number().int().min(min).max(Number.MAX_SAFE_INTEGER).nullable().optional();
};
const Quotas = z.object(Object.fromEntries(QUOTA_NAMES.map((n) => [n, quota(n)])) as Record<QuotaName, ReturnType<typeof quota>>).strict();
const PutPlan = z.object({ quotas: Quotas }).strict();

export const planRoutes = (plans: PlansDomain) => [
  defineRoute({ method: 'GET', url: '/plans', handler: () => plans.list() }),
  defineRoute({ method: 'GET', url: '/plans/:name', schema: { params: PlanName }, handler: (req) => plans.get(req.params.name) }),
  defineRoute({
    method: 'PUT', url: '/plans/:name', schema: { params: PlanName, body: PutPlan },
    handler: async (req, reply) => {
      const { created, plan } = await plans.put(req.params.name, req.body.quotas);
      return reply.code(created ? 201 : 200).send(plan);
    },
  }),
  defineRoute({
    method: 'DELETE', url: '/plans/:name', schema: { params: PlanName },
    handler: async (req, reply) => {
      await plans.remove(req.params.name);
      return reply.code(204).send();
    },
  }),
];
