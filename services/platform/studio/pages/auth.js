// Auth: users through GoTrue's admin API (list, search, create, invite, ban, delete, MFA factors), the
// sign-in settings and providers (project settings), and the dev outbox of mail and texts not sent.
import { useState } from 'preact/hooks';
import { html, DataTable, Field, Form, Loading, Notice, Section, fmtDate, useAction, useAsync } from '../lib/ui.js';
import { literal, platform, project, sql } from '../lib/api.js';

const PER_PAGE = 25;
const SEARCH = (q) => `select id from auth.users where email ilike ${literal(`%${q}%`)} or phone ilike ${literal(`%${q}%`)} or id::text = ${literal(q)}
  order by created_at desc limit ${PER_PAGE}`;
const admin = (ref, path, opts) => project(ref, `/auth/v1${path}`, opts);

function Factors({ ref, user }) {
  const factors = useAsync(() => admin(ref, `/admin/users/${user.id}/factors`), [ref, user.id]);
  const action = useAction();
  const remove = (f) => confirm('Remove this factor?') && action.run(() => admin(ref, `/admin/users/${user.id}/factors/${f.id}`, { method: 'DELETE' })).then(factors.reload);
  return html`<div><h3>MFA factors of ${user.email ?? user.phone ?? user.id}</h3><${Loading} state=${factors} /><${Notice} error=${action.error} />
    <${DataTable} caption="MFA factors" rows=${(factors.data ?? []).map((f) => ({ id: f.id, type: f.factor_type, status: f.status, name: f.friendly_name ?? '', _f: f }))} columns=${['type', 'status', 'name']} empty="No factors."
      actions=${(r) => html`<button type="button" onClick=${() => remove(r._f)}>Remove factor</button>`} /></div>`;
}

function Users({ ref }) {
  const [view, setView] = useState({ page: 1, q: '' });
  const [factorsOf, setFactorsOf] = useState(null);
  const action = useAction();
  const users = useAsync(async () => {
    if (!view.q) return (await admin(ref, `/admin/users?page=${view.page}&per_page=${PER_PAGE}`)).users;
    const ids = await sql(ref, SEARCH(view.q));
    return Promise.all(ids.map((r) => admin(ref, `/admin/users/${r.id}`)));
  }, [ref, view]);
  const create = ({ email, password, confirmEmail }, form) => action.run(() => admin(ref, '/admin/users', { method: 'POST', body: { email, password: password || undefined, email_confirm: confirmEmail } }), `User ${email} created.`).then((ok) => { if (ok) form.reset(); users.reload(); });
  const invite = ({ email }, form) => action.run(() => admin(ref, '/invite', { method: 'POST', body: { email } }), `Invitation sent to ${email} (see the outbox without SMTP).`).then((ok) => { if (ok) form.reset(); users.reload(); });
  const banned = (u) => u.banned_until && new Date(u.banned_until) > new Date();
  const ban = (u) => action.run(() => admin(ref, `/admin/users/${u.id}`, { method: 'PUT', body: { ban_duration: banned(u) ? 'none' : '876000h' } }), banned(u) ? 'Ban lifted.' : 'User banned.').then(users.reload);
  const remove = (u) => confirm(`Delete ${u.email ?? u.id}?`) && action.run(() => admin(ref, `/admin/users/${u.id}`, { method: 'DELETE', body: {} }), 'User deleted.').then(users.reload);
  const rows = (users.data ?? []).map((u) => ({ email: u.email ?? '', phone: u.phone ?? '', created: fmtDate(u.created_at), last_sign_in: fmtDate(u.last_sign_in_at), confirmed: Boolean(u.email_confirmed_at ?? u.phone_confirmed_at), banned: Boolean(banned(u)), _u: u }));
  return html`<${Section} title="Users">
    <${Form} label="Search users" class="row" onSubmit=${({ q }) => setView({ page: 1, q: q.trim() })}>
      <${Field} label="Search email, phone or id" name="q" type="search" value=${view.q} />
      <button type="submit">Search</button>
    </${Form}>
    <${Loading} state=${users} />
    <${Notice} error=${action.error} message=${action.message} />
    <${DataTable} caption="Users" rows=${rows} columns=${['email', 'phone', 'created', 'last_sign_in', 'confirmed', 'banned']} empty="No users."
      actions=${(r) => html`<button type="button" onClick=${() => setFactorsOf(r._u)}>Factors</button>
        <button type="button" onClick=${() => ban(r._u)}>${r.banned ? 'Unban' : 'Ban'}</button>
        <button type="button" onClick=${() => remove(r._u)}>Delete</button>`} />
    ${!view.q && html`<div class="row">
      <button type="button" onClick=${() => setView((v) => ({ ...v, page: v.page - 1 }))} disabled=${view.page === 1}>Previous page</button>
      <span class="muted">page ${view.page}</span>
      <button type="button" onClick=${() => setView((v) => ({ ...v, page: v.page + 1 }))} disabled=${(users.data?.length ?? 0) < PER_PAGE}>Next page</button></div>`}
    ${factorsOf && html`<${Factors} key=${factorsOf.id} ref=${ref} user=${factorsOf} />`}
    <div class="split">
      <${Form} label="Create user" onSubmit=${create}>
        <h3>Create user</h3>
        <${Field} label="Email" name="email" type="email" required />
        <${Field} label="Password" name="password" type="password" autocomplete="new-password" />
        <${Field} label="Mark email confirmed" type="checkbox" name="confirmEmail" checked />
        <button type="submit">Create user</button>
      </${Form}>
      <${Form} label="Invite user" onSubmit=${invite}>
        <h3>Invite by email</h3>
        <${Field} label="Email to invite" name="email" type="email" required />
        <button type="submit">Send invite</button>
      </${Form}>
    </div>
  </${Section}>`;
}

function Providers({ ref }) {
  const proj = useAsync(() => platform(`/projects/${ref}`), [ref]);
  const action = useAction();
  const auth = proj.data?.settings?.auth ?? {};
  const save = (v) => {
    const next = { ...auth, email_enabled: v.email_enabled, disable_signup: !v.signup, email_confirm_required: v.confirm, anonymous_users: v.anonymous, phone_enabled: v.phone };
    if (v.site_url) next.site_url = v.site_url; else delete next.site_url;
    const external = { ...auth.external };
    for (const p of ['github', 'google']) {
      if (v[`${p}_id`]) external[p] = { ...external[p], enabled: v[`${p}_on`], client_id: v[`${p}_id`], secret: v[`${p}_secret`] || external[p]?.secret || '' };
      else delete external[p];
    }
    next.external = external;
    return action.run(() => platform(`/projects/${ref}`, { method: 'PATCH', body: { settings: { ...proj.data.settings, auth: next } } }), 'Auth settings saved.').then(proj.reload);
  };
  const box = (label, name, checked) => html`<${Field} label=${label} type="checkbox" name=${name} checked=${checked} />`;
  return html`<${Section} title="Sign-in settings and providers">
    <${Loading} state=${proj} />
    <${Notice} error=${action.error} message=${action.message} />
    ${proj.data && html`<${Form} label="Auth settings" class="grid" onSubmit=${save}>
      <${Field} label="Site URL" name="site_url" type="url" value=${auth.site_url ?? ''} />
      ${box('Email sign-in', 'email_enabled', auth.email_enabled !== false)}
      ${box('Allow sign-ups', 'signup', !auth.disable_signup)}
      ${box('Require email confirmation', 'confirm', auth.email_confirm_required !== false)}
      ${box('Anonymous sign-ins', 'anonymous', Boolean(auth.anonymous_users))}
      ${box('Phone sign-in', 'phone', Boolean(auth.phone_enabled))}
      ${['github', 'google'].map((p) => html`<fieldset><legend>${p}</legend>
        ${box(`${p} enabled`, `${p}_on`, Boolean(auth.external?.[p]?.enabled))}
        <${Field} label=${`${p} client id`} name=${`${p}_id`} value=${auth.external?.[p]?.client_id ?? ''} />
        <${Field} label=${`${p} client secret`} name=${`${p}_secret`} type="password" autocomplete="off" placeholder=${auth.external?.[p] ? '(unchanged)' : ''} />
      </fieldset>`)}
      <div class="row"><button type="submit" class="primary">Save auth settings</button></div>
    </${Form}>`}
    <p class="muted">Email templates, SMTP, SMS and rate limits are in the project's settings document (Project page, "All settings").</p>
  </${Section}>`;
}

function Outbox({ ref }) {
  const outbox = useAsync(() => platform(`/projects/${ref}/outbox?limit=50`), [ref]);
  return html`<${Section} title="Dev outbox" actions=${html`<button type="button" onClick=${outbox.reload}>Refresh outbox</button>`}>
    <p class="muted">Mail and texts the project would have sent without an SMTP or SMS provider.</p>
    <${Loading} state=${outbox} />
    <${DataTable} caption="Outbox" rows=${(outbox.data ?? []).map((m) => ({ at: fmtDate(m.created_at), to: m.to, type: m.type, subject: m.subject ?? '', link: m.action_link ?? '', otp: m.otp ?? '' }))} empty="The outbox is empty." />
  </${Section}>`;
}

export default function Auth({ ref }) {
  return html`<h1>Auth</h1><${Users} ref=${ref} /><${Providers} ref=${ref} /><${Outbox} ref=${ref} />`;
}
