// Cron jobs of the project (the scheduler's admin API with the platform token): create, pause, resume,
// delete, and each job's run history.
import { useState } from 'preact/hooks';
import { html, DataTable, Field, Form, Loading, Notice, Section, fmtDate, useAction, useAsync } from '../lib/ui.js';
import { projectAsOwner } from '../lib/api.js';

const cron = (ref, path, opts) => projectAsOwner(ref, `/cron/admin/v1${path}`, opts);

function Runs({ ref, job }) {
  const runs = useAsync(() => cron(ref, `/jobs/${job.id}/runs?limit=50`), [ref, job.id]);
  return html`<${Section} title=${`Runs of ${job.name}`} actions=${html`<button type="button" onClick=${runs.reload}>Refresh runs</button>`}>
    <${Loading} state=${runs} />
    <${DataTable} caption=${`Runs of ${job.name}`} empty="No runs yet."
      rows=${(runs.data ?? []).map((r) => ({ scheduled: fmtDate(r.scheduled_at), status: r.status, started: fmtDate(r.started_at), ms: r.duration_ms ?? "", error: r.error ?? '' }))} />
  </${Section}>`;
}

export default function Cron({ ref }) {
  const jobs = useAsync(() => cron(ref, '/jobs'), [ref]);
  const [open, setOpen] = useState(null);
  const action = useAction();
  const create = ({ name, schedule, kind, target, args }) => action.run(() => {
    let parsed;
    try { parsed = args ? JSON.parse(args) : undefined; } catch { throw new Error('Arguments / body must be JSON'); }
    const t = kind === 'edge_function' ? { type: kind, slug: target, ...(parsed === undefined ? {} : { body: parsed }) } : { type: kind, name: target, ...(parsed === undefined ? {} : { args: parsed }) };
    return cron(ref, '/jobs', { method: 'POST', body: { name, schedule, target: t } });
  }, `Job ${name} created.`).then(jobs.reload);
  const act = (job, verb) => action.run(() => cron(ref, `/jobs/${job.id}/${verb}`, { method: 'POST' }), `${job.name}: ${verb}d.`).then(jobs.reload);
  const remove = (job) => confirm(`Delete job ${job.name}?`) && action.run(() => cron(ref, `/jobs/${job.id}`, { method: 'DELETE' }), 'Deleted.').then(() => { setOpen(null); jobs.reload(); });
  const rows = (jobs.data ?? []).map((j) => ({ name: j.name, schedule: j.schedule, target: j.target.type === 'edge_function' ? `function ${j.target.slug}` : `sql ${j.target.name}()`, state: j.paused ? 'paused' : 'active', next_run: fmtDate(j.next_run_at), _j: j }));
  return html`<h1>Cron</h1>
    <${Section} title="Jobs">
      <${Loading} state=${jobs} />
      <${Notice} error=${action.error} message=${action.message} />
      <${DataTable} caption="Cron jobs" rows=${rows} columns=${['name', 'schedule', 'target', 'state', 'next_run']} empty="No jobs yet."
        actions=${(r) => html`<button type="button" onClick=${() => setOpen(r._j)}>Runs</button>
          <button type="button" onClick=${() => act(r._j, r._j.paused ? 'resume' : 'pause')}>${r._j.paused ? 'Resume' : 'Pause'} ${r.name}</button>
          <button type="button" onClick=${() => remove(r._j)}>Delete</button>`} />
    </${Section}>
    <${Section} title="New job">
      <${Form} label="New cron job" class="grid" onSubmit=${create}>
        <${Field} label="Job name" name="name" required />
        <${Field} label="Schedule (UTC crontab)" name="schedule" required value="*/5 * * * *" hint="5 fields, or 6 with seconds first" />
        <${Field} label="Target type" as="select" name="kind"><option value="edge_function">edge function</option><option value="db_function">database function</option></${Field}>
        <${Field} label="Function (slug or SQL name)" name="target" required />
        <${Field} label="Body / named arguments (JSON)" name="args" placeholder='{"days": 30}' />
        <div class="row"><button type="submit" class="primary" disabled=${action.busy}>Create job</button></div>
      </${Form}>
    </${Section}>
    ${open && html`<${Runs} key=${open.id} ref=${ref} job=${open} />`}`;
}
