// Every HTTP call Studio makes: the platform API with the signed-in platform token, and a project's own APIs
// through the gateway's path prefix (/project/<ref>/…) with its service_role key, same origin, so no CORS.
const TOKEN = 'basalt.studio.token';

export const session = {
  token: () => sessionStorage.getItem(TOKEN),
  signIn: (token) => sessionStorage.setItem(TOKEN, token),
  signOut: () => { sessionStorage.removeItem(TOKEN); serviceKeys.clear(); },
};

export class ApiError extends Error {
  constructor(status, body) {
    super(messageOf(status, body));
    this.status = status;
    this.body = body;
  }
}

// the wire shapes of every module: PostgREST, GoTrue, Storage, OpenAI, ours
function messageOf(status, body) {
  if (body && typeof body === 'object') {
    const m = body.message ?? body.msg ?? body.error_description ?? body.error?.message ?? body.error ?? body.detail;
    if (m) return `${typeof m === 'string' ? m : JSON.stringify(m)}${body.code ? ` (${body.code})` : ''}`;
  }
  return typeof body === 'string' && body ? body.slice(0, 300) : `HTTP ${status}`;
}

async function readBody(res) {
  const type = res.headers.get('content-type') ?? '';
  if (res.status === 204) return null;
  if (type.includes('json')) return res.json();
  return res.text();
}

export async function request(url, { method = 'GET', headers = {}, body, raw = false } = {}) {
  const h = { ...headers };
  let payload = body;
  if (body !== undefined && !(body instanceof Blob) && typeof body !== 'string') {
    h['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(url, { method, headers: h, body: payload });
  if (raw && res.ok) return res;
  const data = await readBody(res);
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

const bearer = () => ({ authorization: `Bearer ${session.token()}` });

/** /platform/v1{path} with the platform token */
export const platform = (path, opts = {}) => request(`/platform/v1${path}`, { ...opts, headers: { ...bearer(), ...opts.headers } });

/** SQL as the project owner: the rows of the last statement */
export const sql = (ref, query) => platform(`/projects/${ref}/sql`, { method: 'POST', body: { query } });

// service_role keys stay in memory only, fetched once per project per page load
const serviceKeys = new Map();
export async function serviceKey(ref) {
  if (!serviceKeys.has(ref)) {
    const keys = await platform(`/projects/${ref}/api-keys?reveal=true`);
    serviceKeys.set(ref, keys.find((k) => k.name === 'service_role')?.api_key);
  }
  return serviceKeys.get(ref);
}
export const forgetKeys = (ref) => serviceKeys.delete(ref);

export const projectBase = (ref) => `/project/${ref}`;

/** a project's public API ({path} below /project/<ref>) with its service_role key */
export async function project(ref, path, opts = {}) {
  const key = await serviceKey(ref);
  return request(`${projectBase(ref)}${path}`, { ...opts, headers: { apikey: key, authorization: `Bearer ${key}`, ...opts.headers } });
}

/** the platform token on a project's path (cron and assets admin take it there) */
export const projectAsOwner = (ref, path, opts = {}) =>
  request(`${projectBase(ref)}${path}`, { ...opts, headers: { ...bearer(), ...opts.headers } });

export const ident = (name) => `"${String(name).replace(/"/g, '""')}"`;
export const literal = (value) => `'${String(value).replace(/'/g, "''")}'`;
