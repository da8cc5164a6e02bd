// Plans: named quota sets, from configuration and the operator's API, and which plan a project is on. A change
// reaches every service at once through the registry (a plan edit drops every project on it, a plan change the one
// project); the database-side quotas (connections, statement timeout, read-only) are reconciled by db-quotas.
import { QUOTA_NAMES, quotasFrom, type ProjectRegistry, type QuotaName } from '@basalt/tenancy';
import type { PlanRecord, PlansDb } from '../db/plans.js';
import { platformErrors } from '../errors.js';
import type { DbQuotasDomain } from './db-quotas.js';

export interface PlansDeps {
  plans: PlansDb;
  registry: ProjectRegistry;
  dbQuotas: DbQuotasDomain;
  defaultPlan: string;
}

export type QuotaInput = Partial<Record<QuotaName, number | null>>;

export interface PlanView {
  name: string;
  default: boolean;
  quotas: Record<QuotaName, number | null>;
  projects: number;
  created_at: string;
  updated_at: string;
}

/** Every quota named, absent ones null (unlimited): PUT replaces a plan's whole set. */
export const completeQuotas = (q: QuotaInput): Record<QuotaName, number | null> =>
  Object.fromEntries(QUOTA_NAMES.map((n) => [n, q[n] ?? null])) as Record<QuotaName, number | null>;

export function plansDomain(d: PlansDeps) {
  const view = (p: PlanRecord): PlanView => ({
    name: p.name,
    default: p.name === d.defaultPlan,
    quotas: { ...quotasFrom(p.quotas) },
    projects: p.projects,
    created_at: p.created_at.toISOString(),
    updated_at: p.updated_at.toISOString(),
  });

  const mustFind = async (name: string) => {
    const p = await d.plans.find(name);
    if (!p) throw platformErrors.planNotFound(name);
    return p;
  };

  return {
    list: async () => (await d.plans.list()).map(view),
    get: async (name: string) => view(await mustFind(name)),
    /** Creates or replaces a plan; its projects see the new quotas on their next request, on every replica. */
    async put(name: string, quotas: QuotaInput): Promise<{ created: boolean; plan: PlanView }> {
      const created = await d.plans.put(name, completeQuotas(quotas));
      await d.registry.invalidatePlan(name);
      // database-side quotas of every project on the plan: in the background, as there may be many
      if (!created) void d.dbQuotas.checkAll().catch(() => undefined);
      return { created, plan: view(await mustFind(name)) };
    },
    /** Deletes a plan that no project is on and that is not the default for new ones. */
    async remove(name: string): Promise<void> {
      if (name === d.defaultPlan) throw platformErrors.planInUse(name, 'it is the default plan of new projects (BASALT_DEFAULT_PLAN)');
      const outcome = await d.plans.remove(name);
      if (outcome === 'missing') throw platformErrors.planNotFound(name);
      if (outcome === 'in_use') throw platformErrors.planInUse(name, 'projects are on it; move them to another plan first');
    },
    /** Moves a project to a plan: its database limits are set before the services hear of the change. */
    async assign(ref: string, plan: string): Promise<void> {
      await mustFind(plan);
      if (!(await d.plans.assign(ref, plan))) throw platformErrors.projectNotFound(ref);
      await d.dbQuotas.checkProject(ref);
      await d.registry.invalidate(ref);
    },
    /** Start-up: the plans configuration names are written over the stored ones; the default plan must exist. */
    async applyConfigured(configured: Record<string, unknown>): Promise<string[]> {
      const applied: string[] = [];
      for (const [name, quotas] of Object.entries(configured)) {
        if (!/^[a-z][a-z0-9_-]{0,62}$/.test(name)) throw new Error(`BASALT_PLANS: "${name}" is not a valid plan name`);
        const unknown = Object.keys(quotas && typeof quotas === 'object' ? quotas : {}).filter((k) => !(QUOTA_NAMES as readonly string[]).includes(k));
        if (unknown.length) throw new Error(`BASALT_PLANS: plan "${name}" names unknown quotas: ${unknown.join(', ')}`);
        await d.plans.put(name, completeQuotas(quotasFrom(quotas)));
        await d.registry.invalidatePlan(name);
        applied.push(name);
      }
      if (!(await d.plans.find(d.defaultPlan))) throw new Error(`BASALT_DEFAULT_PLAN names plan "${d.defaultPlan}", which does not exist`);
      return applied;
    },
  };
}

export type PlansDomain = ReturnType<typeof plansDomain>;
