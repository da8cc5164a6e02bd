// The projects the token may see, and creating one (an unscoped token only).
import { html, DataTable, Field, Form, Loading, Notice, Section, fmtDate, useAction } from '../lib/ui.js';
import { platform } from '../lib/api.js';

export default function Projects({ projects, navigate }) {
  const create = useAction();
  const submit = async ({ name }) => {
    const p = await create.run(() => platform('/projects', { method: 'POST', body: { name } }));
    if (!p) return;
    projects.reload();
    navigate(`#/p/${p.ref}/overview`);
  };
  return html`<h1>Projects</h1>
    <${Section} title="New project">
      <${Form} label="New project" class="row" onSubmit=${submit}>
        <${Field} label="Name" name="name" required maxlength="256" />
        <button type="submit" class="primary" disabled=${create.busy}>${create.busy ? 'Creating…' : 'Create project'}</button>
      </${Form}>
      <${Notice} error=${create.error} />
    </${Section}>
    <${Section} title="All projects">
      <${Loading} state=${projects} />
      <${DataTable} caption="Projects" columns=${['name', 'ref', 'status', 'created']}
        rows=${(projects.data ?? []).map((p) => ({ ...p, created: fmtDate(p.created_at) }))}
        actions=${(p) => html`<a class="button" href=${`#/p/${p.ref}/overview`}>Open ${p.name}</a>`} />
    </${Section}>`;
}
