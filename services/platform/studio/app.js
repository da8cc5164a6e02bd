// Studio's shell: sign-in with a platform token, the hash router, the layout (project picker, module nav) and
// each page loaded as its own module on first visit.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html, Field, Form, Notice, useAction, useAsync } from './lib/ui.js';
import { platform, session } from './lib/api.js';

const PAGES = {
  overview: { title: 'Project', load: () => import('./pages/project.js') },
  database: { title: 'Tables', load: () => import('./pages/tables.js') },
  policies: { title: 'Policies', load: () => import('./pages/policies.js') },
  sql: { title: 'SQL', load: () => import('./pages/sql.js') },
  auth: { title: 'Auth', load: () => import('./pages/auth.js') },
  storage: { title: 'Storage', load: () => import('./pages/storage.js') },
  functions: { title: 'Functions', load: () => import('./pages/functions.js') },
  cron: { title: 'Cron', load: () => import('./pages/cron.js') },
  ai: { title: 'AI', load: () => import('./pages/ai.js') },
  memory: { title: 'Memory', load: () => import('./pages/memory.js') },
  realtime: { title: 'Realtime', load: () => import('./pages/realtime.js') },
  documents: { title: 'Documents', load: () => import('./pages/documents.js') },
};
const PROJECTS = { title: 'Projects', load: () => import('./pages/projects.js') };

/** #/projects, #/p/<ref>/<page> */
function parseRoute(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'p' && /^[a-z]{20}$/.test(parts[1] ?? '')) return { ref: parts[1], page: PAGES[parts[2]] ? parts[2] : 'overview' };
  return { ref: null, page: 'projects' };
}

function useRoute() {
  const [route, setRoute] = useState(parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function SignIn({ onSignedIn }) {
  const action = useAction();
  const submit = async ({ token }) => {
    session.signIn(token.trim());
    const ok = await action.run(() => platform('/projects'));
    if (ok) onSignedIn();
    else session.signOut();
  };
  return html`<main id="main" class="signin">
    <h1>Basalt Studio</h1>
    <p>Sign in with a platform token (<code>bsp_…</code>): the one <code>npm start</code> printed, or one made with
      <code>basalt tokens create</code>. A token scoped to projects sees only those.</p>
    <${Form} label="Sign in" onSubmit=${submit}>
      <${Field} label="Platform token" name="token" type="password" autocomplete="off" required placeholder="bsp_…" />
      <button type="submit" class="primary" disabled=${action.busy}>Sign in</button>
      <${Notice} error=${action.error} />
    </${Form}>
  </main>`;
}

/** the page module, imported on first use */
function Lazy({ entry, props }) {
  const mod = useAsync(entry.load, [entry]);
  if (mod.error) return html`<${Notice} error=${mod.error} />`;
  if (!mod.data) return html`<p class="muted" role="status">Loading…</p>`;
  const Page = mod.data.default;
  return html`<${Page} ...${props} />`;
}

function Shell({ route, onSignOut }) {
  const projects = useAsync(() => platform('/projects'), []);
  const { ref, page } = route;
  const entry = ref ? PAGES[page] : PROJECTS;
  useEffect(() => { document.title = `${entry.title}${ref ? ` · ${ref}` : ''} · Basalt Studio`; }, [entry, ref]);
  const pick = (e) => { location.hash = e.currentTarget.value ? `#/p/${e.currentTarget.value}/${page === 'projects' ? 'overview' : page}` : '#/projects'; };
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/projects">Basalt Studio</a>
      <div class="field inline">
        <label for="project-pick">Project</label>
        <select id="project-pick" value=${ref ?? ''} onChange=${pick}>
          <option value="">All projects</option>
          ${(projects.data ?? []).map((p) => html`<option value=${p.ref}>${p.name} (${p.ref})</option>`)}
        </select>
      </div>
      <button type="button" onClick=${onSignOut}>Sign out</button>
    </header>
    <div class="layout">
      ${ref && html`<nav class="side" aria-label="Project modules"><ul>
        ${Object.entries(PAGES).map(([key, p]) => html`<li><a href=${`#/p/${ref}/${key}`} aria-current=${key === page ? 'page' : undefined}>${p.title}</a></li>`)}
      </ul></nav>`}
      <main id="main" tabindex="-1">
        <${Lazy} key=${`${ref}/${page}`} entry=${entry} props=${{ ref, projects, navigate: (h) => { location.hash = h; } }} />
      </main>
    </div>`;
}

function App() {
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(Boolean(session.token()));
  if (!signedIn) return html`<${SignIn} onSignedIn=${() => setSignedIn(true)} />`;
  return html`<${Shell} route=${route} onSignOut=${() => { session.signOut(); setSignedIn(false); location.hash = '#/projects'; }} />`;
}

const root = document.getElementById('app');
root.textContent = ''; // the "Loading Studio…" placeholder: render() appends to what is there
render(html`<${App} />`, root);
