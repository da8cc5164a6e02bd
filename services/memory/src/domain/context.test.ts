// Statements of the memory service run under its own 30 s bound, or the plan's statement_timeout_ms when lower.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { quotasFrom, type Project } from '@basalt/tenancy';
import { serviceSettings, userSettings, type Ctx } from './context.js';

const ctx = (quotas: Record<string, unknown>, kind: 'user' | 'service_role' = 'user'): Ctx => ({
  caller: { project: { ref: 'abcdefghijabcdefghij', quotas: quotasFrom(quotas) } as unknown as Project, kind, claims: { sub: 'u1', role: 'authenticated' }, userId: 'u1' } as Ctx['caller'],
  settings: {} as Ctx['settings'],
  pool: {} as pg.Pool,
});

test("the plan's statement_timeout_ms caps the service's own bound", () => {
  assert.equal(userSettings(ctx({})).timeoutMs, 30_000);
  assert.equal(serviceSettings(ctx({})).timeoutMs, 30_000);
  assert.equal(userSettings(ctx({ statement_timeout_ms: 2_000 })).timeoutMs, 2_000);
  assert.equal(serviceSettings(ctx({ statement_timeout_ms: 2_000 })).timeoutMs, 2_000);
  assert.equal(userSettings(ctx({ statement_timeout_ms: 60_000 })).timeoutMs, 30_000);
  assert.equal(userSettings(ctx({}, 'service_role')).role, 'service_role');
});
