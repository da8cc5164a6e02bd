// What a caller may do to a collection: service_role (and wire credentials of that role) pass; everyone else
// gets the collection's rule for the action, with ${auth.*} already filled in for them.
import type { Doc } from '../engine/values.js';

export type RuleAction = 'read' | 'insert' | 'update' | 'delete';

/** allow=false denies; `filter` is merged into queries and checked against written documents */
export interface EffectiveRule { allow: boolean; filter?: Doc; fields?: string[] }

export interface Guard {
  bypass: boolean;
  rule: (collection: string, action: RuleAction) => Promise<EffectiveRule>;
}

export const serviceGuard: Guard = { bypass: true, rule: async () => ({ allow: true }) };
