// A small local HTTP server that plays GitHub's and Google's OAuth endpoints: authorize (the user approves at
// once and is sent back with a code), token, and the profile endpoints. It listens on 127.0.0.77, the address
// the test fleet's BASALT_EGRESS_ALLOW lets through, unless told otherwise.
import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeUser {
  id: string;
  email: string;
  verified: boolean;
  name: string;
}

export interface FakeOAuth {
  url: string;
  /** `<provider>/<endpoint>` of every request received, in order */
  requests: string[];
  /** who approves the next authorize request, per provider */
  next: Record<'github' | 'google', FakeUser>;
  close: () => Promise<void>;
  settings: (provider: 'github' | 'google') => Record<string, unknown>;
  /** an RS256 ID token signed by the fake Google's published key */
  signIdToken: (claims: Record<string, unknown>, opts?: { kid?: string }) => string;
}

const body = (req: IncomingMessage) =>
  new Promise<URLSearchParams>((resolve) => {
    let s = '';
    req.on('data', (c) => (s += c));
    req.on('end', () => resolve(new URLSearchParams(s)));
  });

export async function startFakeOAuth(host = '127.0.0.77'): Promise<FakeOAuth> {
  const codes = new Map<string, { provider: string; user: FakeUser; redirectUri: string }>();
  const tokens = new Map<string, FakeUser>();
  const fake = { next: {} as FakeOAuth['next'], requests: [] as string[] } as FakeOAuth;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  fake.signIdToken = (claims, opts = {}) => {
    const body = `${b64({ alg: 'RS256', typ: 'JWT', kid: opts.kid ?? 'k1' })}.${b64(claims)}`;
    return `${body}.${sign('sha256', Buffer.from(body), privateKey).toString('base64url')}`;
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    const json = (status: number, v: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v));
    };
    const [, provider, what] = url.pathname.split('/');
    fake.requests.push(`${provider}/${what}`);
    if (what === 'certs') return json(200, { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }] });
    if (what === 'authorize') {
      const q = url.searchParams;
      if (q.get('client_id') !== `${provider}-client`) return json(400, { error: 'bad client' });
      const code = `code-${Math.random().toString(36).slice(2)}`;
      codes.set(code, { provider, user: fake.next[provider as 'github'], redirectUri: q.get('redirect_uri')! });
      const back = new URL(q.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state')!);
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (what === 'token' && req.method === 'POST') {
      const form = await body(req);
      const grant = codes.get(form.get('code') ?? '');
      if (!grant || form.get('client_secret') !== `${provider}-secret` || form.get('redirect_uri') !== grant.redirectUri) return json(400, { error: 'bad_verification_code' });
      codes.delete(form.get('code')!);
      const token = `tok-${Math.random().toString(36).slice(2)}`;
      tokens.set(token, grant.user);
      return json(200, { access_token: token, token_type: 'bearer', ...(provider === 'google' ? { refresh_token: `ref-${token}` } : {}) });
    }
    const user = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (!user) return json(401, { message: 'Bad credentials' });
    if (provider === 'github' && what === 'user') return json(200, { id: Number(user.id), login: user.name.toLowerCase(), name: user.name, email: null, avatar_url: 'http://img.test/a.png' });
    if (provider === 'github' && what === 'emails') return json(200, [{ email: user.email, primary: true, verified: user.verified }]);
    if (provider === 'google' && what === 'userinfo') return json(200, { sub: user.id, email: user.email, email_verified: user.verified, name: user.name, picture: 'http://img.test/g.png' });
    json(404, { error: 'not found' });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  fake.url = `http://${host}:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((r) => server.close(() => r()));
  fake.settings = (provider) => ({
    client_id: `${provider}-client`,
    secret: `${provider}-secret`,
    authorize_url: `${fake.url}/${provider}/authorize`,
    token_url: `${fake.url}/${provider}/token`,
    user_url: `${fake.url}/${provider}/${provider === 'github' ? 'user' : 'userinfo'}`,
    emails_url: `${fake.url}/${provider}/emails`,
    jwks_url: `${fake.url}/${provider}/certs`,
  });
  return fake;
}
