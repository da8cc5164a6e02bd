// Sessions against a model (catalogue Z4): random sequences of sign-in, refresh (one at a time or two at once, with
// any token ever issued), sign-out in each scope, password change, ban and unban, run against the service and a
// small model of GoTrue's rules. After every step the service must accept exactly the tokens the model says are
// valid: an access token while its session lives, a refresh token as GoTrue's rotation allows (the active one
// rotates; its revoked parent hands back the active child; any other revoked one ends the session). One rule is
// stricter than GoTrue's: a ban ends the user's sessions (GoTrue keeps them, their access tokens still answered and
// their refresh tokens good again once the ban is lifted). The reuse interval is 0 here, so order alone decides.
// 30 sequences a run; MODEL_RUNS=500 looks further (150 take about 35 s).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createProject, type TestProject } from '@basalt/testkit';
import { raw, setAuthSettings } from './helpers.js';

let p: TestProject;

before(async () => {
  p = await createProject('auth-session-model');
  const many = { per_ip: 100_000, per_email: 100_000, window_seconds: 60 };
  await setAuthSettings(p, { refresh_token_reuse_interval: 0, rate_limits: { token: many, refresh: many } });
});

interface Session { alive: boolean; active: string; parentOfActive: string | null }
interface Model {
  password: string;
  banned: boolean;
  passwords: number;
  sessions: Session[];
  /** every token ever issued, with the session it belongs to */
  refresh: { token: string; s: Session }[];
  access: { token: string; s: Session }[];
}
interface Real { userId: string; email: string }
type Reply = Awaited<ReturnType<typeof raw>>;

const json = (r: Reply) => `${r.status} ${JSON.stringify(r.body)}`;

function expectError(r: Reply, status: number, codes: string[], what: string): void {
  assert.equal(r.status, status, `${what}: ${json(r)}`);
  // the 2024-01-01 API version's shape: {code, message}
  assert.ok(codes.includes(r.body?.code), `${what}: ${json(r)}, expected ${codes.join(' or ')}`);
}

/** a session answer: its tokens are recorded under the session they belong to */
function issued(m: Model, r: Reply, s: Session): void {
  m.access.push({ token: r.body.access_token, s });
  if (!m.refresh.some((t) => t.token === r.body.refresh_token)) m.refresh.push({ token: r.body.refresh_token, s });
}

const refreshCall = (token: string) => raw(p, '/token?grant_type=refresh_token', { method: 'POST', json: { refresh_token: token } });

/** what a refresh with this token must answer now, by GoTrue's rules */
type Outcome = { ok: true; rotates: boolean } | { ok: false; codes: string[]; ends: boolean };
function predictRefresh(m: Model, token: string, s: Session): Outcome {
  if (!s.alive) return { ok: false, codes: ['refresh_token_not_found'], ends: false };
  if (m.banned) return { ok: false, codes: ['user_banned'], ends: false };
  if (token === s.active) return { ok: true, rotates: true };
  if (token === s.parentOfActive) return { ok: true, rotates: false };
  return { ok: false, codes: ['refresh_token_already_used'], ends: true };
}

function applyRefresh(m: Model, s: Session, outcome: Outcome, r: Reply): void {
  if (!outcome.ok) {
    if (outcome.ends) s.alive = false;
    return;
  }
  if (outcome.rotates) {
    s.parentOfActive = s.active;
    s.active = r.body.refresh_token;
  } else assert.equal(r.body.refresh_token, s.active, 'the revoked parent hands back the active child');
  issued(m, r, s);
}

class SignIn implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, real: Real): Promise<void> {
    const r = await raw(p, '/token?grant_type=password', { method: 'POST', json: { email: real.email, password: m.password } });
    if (m.banned) return expectError(r, 400, ['user_banned'], 'sign-in while banned');
    assert.equal(r.status, 200, `sign-in: ${json(r)}`);
    const s: Session = { alive: true, active: r.body.refresh_token, parentOfActive: null };
    m.sessions.push(s);
    issued(m, r, s);
  }
  toString = () => 'signIn';
}

class Refresh implements fc.AsyncCommand<Model, Real> {
  constructor(readonly i: number, readonly twice: boolean) {}
  check = (m: Readonly<Model>) => m.refresh.length > 0;
  async run(m: Model): Promise<void> {
    const { token, s } = m.refresh[this.i % m.refresh.length]!;
    const outcome = predictRefresh(m, token, s);
    const replies = await Promise.all(this.twice ? [refreshCall(token), refreshCall(token)] : [refreshCall(token)]);
    for (const r of replies) {
      if (outcome.ok) assert.equal(r.status, 200, `refresh: ${json(r)}`);
      // of two refreshes with a reused token, the second may find the session already ended by the first
      else expectError(r, 400, outcome.ends ? ['refresh_token_already_used', 'refresh_token_not_found'] : outcome.codes, 'refresh');
    }
    // two at once with the active token: both get the same child (the second finds its parent revoked, the child active)
    if (outcome.ok && replies.length === 2) assert.equal(replies[0]!.body.refresh_token, replies[1]!.body.refresh_token, 'one rotation for two refreshes');
    applyRefresh(m, s, outcome, replies[0]!);
    for (const r of replies.slice(1)) if (outcome.ok) issued(m, r, s);
  }
  toString = () => `refresh(${this.i}${this.twice ? ', twice at once' : ''})`;
}

class SignOut implements fc.AsyncCommand<Model, Real> {
  constructor(readonly i: number, readonly scope: 'global' | 'local' | 'others') {}
  check = (m: Readonly<Model>) => m.access.length > 0;
  async run(m: Model): Promise<void> {
    const { token, s } = m.access[this.i % m.access.length]!;
    const r = await raw(p, `/logout?scope=${this.scope}`, { method: 'POST', bearer: token });
    if (!s.alive) return expectError(r, 403, ['session_not_found'], `sign-out (${this.scope}) with an ended session's token`);
    assert.equal(r.status, 204, `sign-out: ${json(r)}`);
    for (const other of m.sessions) {
      if (this.scope === 'global' || (this.scope === 'local' ? other === s : other !== s)) other.alive = false;
    }
  }
  toString = () => `signOut(${this.i}, ${this.scope})`;
}

class ChangePassword implements fc.AsyncCommand<Model, Real> {
  constructor(readonly i: number) {}
  check = (m: Readonly<Model>) => m.access.length > 0;
  async run(m: Model): Promise<void> {
    const { token, s } = m.access[this.i % m.access.length]!;
    const password = `model-pass-${++m.passwords}-Aa`;
    const r = await raw(p, '/user', { method: 'PUT', bearer: token, json: { password } });
    if (!s.alive) return expectError(r, 403, ['session_not_found'], "password change with an ended session's token");
    assert.equal(r.status, 200, `password change: ${json(r)}`);
    m.password = password;
    // every other session of the user ends (GoTrue PR #806)
    for (const other of m.sessions) if (other !== s) other.alive = false;
  }
  toString = () => `changePassword(${this.i})`;
}

class Ban implements fc.AsyncCommand<Model, Real> {
  constructor(readonly banned: boolean) {}
  check = () => true;
  async run(m: Model, real: Real): Promise<void> {
    const r = await raw(p, `/admin/users/${real.userId}`, { method: 'PUT', bearer: p.serviceKey, json: { ban_duration: this.banned ? '876000h' : 'none' } });
    assert.equal(r.status, 200, `ban: ${json(r)}`);
    m.banned = this.banned;
    if (this.banned) for (const s of m.sessions) s.alive = false;
  }
  toString = () => (this.banned ? 'ban' : 'unban');
}

/** Every access token ever issued: accepted by GET /user exactly while its session lives. */
class CheckAccess implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => m.access.length > 0;
  async run(m: Model): Promise<void> {
    const replies = await Promise.all(m.access.map(({ token }) => raw(p, '/user', { bearer: token })));
    replies.forEach((r, k) => {
      const { s } = m.access[k]!;
      if (s.alive) assert.equal(r.status, 200, `access token ${k} of a live session: ${json(r)}`);
      else expectError(r, 403, ['session_not_found'], `access token ${k} of an ended session`);
    });
  }
  toString = () => 'checkAccess';
}

const commands = [
  fc.constant(new SignIn()),
  fc.tuple(fc.nat(), fc.boolean()).map(([i, twice]) => new Refresh(i, twice)),
  fc.tuple(fc.nat(), fc.constantFrom('global' as const, 'local' as const, 'others' as const)).map(([i, scope]) => new SignOut(i, scope)),
  fc.nat().map((i) => new ChangePassword(i)),
  fc.boolean().map((b) => new Ban(b)),
  fc.constant(new CheckAccess()),
];

let users = 0;

test('the service accepts exactly the tokens a model of GoTrue sessions says are valid', async () => {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 20 }), async (cmds) => {
      const email = `model-${Date.now()}-${++users}@example.com`;
      const created = await raw(p, '/admin/users', { method: 'POST', bearer: p.serviceKey, json: { email, password: 'model-pass-0-Aa', email_confirm: true } });
      assert.equal(created.status, 200, json(created));
      const model: Model = { password: 'model-pass-0-Aa', banned: false, passwords: 0, sessions: [], refresh: [], access: [] };
      await fc.asyncModelRun(() => ({ model, real: { userId: created.body.id, email } }), [new SignIn(), ...cmds, new CheckAccess()]);
    }),
    { numRuns: Number(process.env.MODEL_RUNS ?? 30), endOnFailure: true },
  );
});
