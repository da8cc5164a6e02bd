// Buckets and their objects through the Storage API: create buckets, upload (XHR for progress, drag and drop),
// image previews through the render endpoint, signed links, move and delete.
import { useEffect, useState } from 'preact/hooks';
import { html, CopyButton, DataTable, Field, Form, Loading, Notice, Section, fmtDate, useAction, useAsync } from '../lib/ui.js';
import { project, projectBase, serviceKey } from '../lib/api.js';

const path = (p) => p.split('/').map(encodeURIComponent).join('/');
const IMAGE = /\.(png|jpe?g|gif|webp|avif)$/i;

/** XHR rather than fetch: only it reports upload progress */
function upload(ref, key, bucket, name, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${projectBase(ref)}/storage/v1/object/${encodeURIComponent(bucket)}/${path(name)}`);
    xhr.setRequestHeader('authorization', `Bearer ${key}`);
    xhr.setRequestHeader('apikey', key);
    xhr.setRequestHeader('x-upsert', 'true');
    xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(Math.round((e.loaded / e.total) * 100));
    xhr.onload = () => {
      if (xhr.status < 300) return resolve();
      let msg = `HTTP ${xhr.status}`;
      try { msg = JSON.parse(xhr.responseText).message ?? msg; } catch { /* not JSON */ }
      reject(new Error(msg));
    };
    xhr.onerror = () => reject(new Error('upload failed: network error'));
    xhr.send(file);
  });
}

function Preview({ ref, bucket, name }) {
  const [src, setSrc] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let url = null;
    project(ref, `/storage/v1/render/image/authenticated/${encodeURIComponent(bucket)}/${path(name)}?width=480&resize=contain`, { raw: true })
      .then((r) => r.blob()).then((b) => { url = URL.createObjectURL(b); setSrc(url); }, setError);
    return () => url && URL.revokeObjectURL(url);
  }, [ref, bucket, name]);
  return html`<figure class="preview"><${Notice} error=${error} />${src && html`<img src=${src} alt=${`Preview of ${name}`} />`}<figcaption>${name}</figcaption></figure>`;
}

function Objects({ ref, bucket }) {
  const [prefix, setPrefix] = useState('');
  const [progress, setProgress] = useState(null);
  const [preview, setPreview] = useState(null);
  const [signed, setSigned] = useState(null);
  const [over, setOver] = useState(false);
  const action = useAction();
  const list = useAsync(() => project(ref, `/storage/v1/object/list/${encodeURIComponent(bucket)}`, { method: 'POST', body: { prefix, limit: 200, offset: 0, sortBy: { column: 'name', order: 'asc' } } }), [ref, bucket, prefix]);
  const full = (o) => `${prefix ? `${prefix}/` : ''}${o.name}`;
  const send = async (files) => {
    const key = await serviceKey(ref);
    await action.run(async () => {
      for (const f of files) {
        setProgress({ name: f.name, pct: 0 });
        await upload(ref, key, bucket, `${prefix ? `${prefix}/` : ''}${f.name}`, f, (pct) => setProgress({ name: f.name, pct }));
      }
    }, `${files.length} file(s) uploaded.`);
    setProgress(null);
    list.reload();
  };
  const sign = (o) => action.run(async () => {
    const r = await project(ref, `/storage/v1/object/sign/${encodeURIComponent(bucket)}/${path(full(o))}`, { method: 'POST', body: { expiresIn: 3600 } });
    setSigned({ name: full(o), url: new URL(`${projectBase(ref)}/storage/v1${r.signedURL}`, location.origin).toString() });
  });
  const move = (o) => {
    const to = prompt(`Move ${full(o)} to`, full(o));
    if (to && to !== full(o)) action.run(() => project(ref, '/storage/v1/object/move', { method: 'POST', body: { bucketId: bucket, sourceKey: full(o), destinationKey: to } }), 'Moved.').then(list.reload);
  };
  const remove = (o) => confirm(`Delete ${full(o)}?`) && action.run(() => project(ref, `/storage/v1/object/${encodeURIComponent(bucket)}`, { method: 'DELETE', body: { prefixes: [full(o)] } }), 'Deleted.').then(list.reload);
  const drop = (e) => { e.preventDefault(); setOver(false); if (e.dataTransfer.files.length) send([...e.dataTransfer.files]); };
  const rows = (list.data ?? []).map((o) => ({ name: o.id ? o.name : `${o.name}/`, size: o.metadata?.size ?? '', type: o.metadata?.mimetype ?? (o.id ? '' : 'folder'), updated: fmtDate(o.updated_at), _o: o }));
  return html`<${Section} title=${`Bucket ${bucket}`}>
    <div class="row">
      <${Field} label="Folder" value=${prefix} onChange=${(e) => setPrefix(e.currentTarget.value.replace(/^\/+|\/+$/g, ''))} placeholder="(root)" />
      ${prefix && html`<button type="button" onClick=${() => setPrefix(prefix.split('/').slice(0, -1).join('/'))}>Up one folder</button>`}
    </div>
    <div class=${`dropzone ${over ? 'over' : ''}`} onDragOver=${(e) => { e.preventDefault(); setOver(true); }} onDragLeave=${() => setOver(false)} onDrop=${drop}>
      <${Field} label="Upload files (or drop them here)" type="file" multiple onChange=${(e) => e.currentTarget.files.length && send([...e.currentTarget.files])} />
      ${progress && html`<label>Uploading ${progress.name} <progress max="100" value=${progress.pct}>${progress.pct}%</progress></label>`}
    </div>
    <${Notice} error=${action.error} message=${action.message} />
    ${signed && html`<p>Signed link to ${signed.name} (1 hour): <a href=${signed.url} target="_blank" rel="noopener">open</a> <${CopyButton} text=${signed.url} label="Copy signed link" /></p>`}
    ${preview && html`<${Preview} key=${preview} ref=${ref} bucket=${bucket} name=${preview} />`}
    <${Loading} state=${list} />
    <${DataTable} caption=${`Objects in ${bucket}`} rows=${rows} columns=${['name', 'size', 'type', 'updated']} empty="This folder is empty."
      actions=${(r) => (r._o.id ? html`
        ${IMAGE.test(r.name) && html`<button type="button" onClick=${() => setPreview(full(r._o))}>Preview</button>`}
        <button type="button" onClick=${() => sign(r._o)}>Sign link</button>
        <button type="button" onClick=${() => move(r._o)}>Move</button>
        <button type="button" onClick=${() => remove(r._o)}>Delete</button>` : html`<button type="button" onClick=${() => setPrefix(full(r._o))}>Open folder</button>`)} />
  </${Section}>`;
}

/** the project's published site (assets): its files and settings, with the service_role key */
function Site({ ref }) {
  const site = useAsync(async () => {
    const [files, settings] = await Promise.all([project(ref, '/assets/admin/v1/files'), project(ref, '/assets/admin/v1/settings')]);
    return { files: files.files, settings };
  }, [ref]);
  const action = useAction();
  const s = site.data?.settings ?? {};
  const save = (v) => action.run(() => project(ref, '/assets/admin/v1/settings', { method: 'PUT', body: { cache_control: v.cache, html_cache_control: v.html, spa_fallback: v.spa } }), 'Site settings saved.').then(site.reload);
  const remove = (f) => confirm(`Delete ${f.path} from the site?`) && action.run(() => project(ref, `/assets/admin/v1/files/${path(f.path)}`, { method: 'DELETE' }), 'Deleted.').then(site.reload);
  return html`<${Section} title="Published site">
    <${Loading} state=${site} />
    <${Notice} error=${action.error} message=${action.message} />
    <${DataTable} caption="Site files" rows=${(site.data?.files ?? []).map((f) => ({ path: f.path, size: f.size, type: f.content_type, _f: f }))} columns=${['path', 'size', 'type']}
      empty="Nothing published: basalt assets deploy <ref> ./dist."
      actions=${(r) => html`<a class="button" href=${r._f.url} target="_blank" rel="noopener">View</a><button type="button" onClick=${() => remove(r._f)}>Delete</button>`} />
    ${site.data && html`<${Form} label="Site settings" class="grid" onSubmit=${save}>
      <${Field} label="Cache-Control" name="cache" value=${s.cache_control ?? ''} />
      <${Field} label="Cache-Control for HTML" name="html" value=${s.html_cache_control ?? ''} />
      <${Field} label="SPA fallback to index.html" type="checkbox" name="spa" checked=${Boolean(s.spa_fallback)} />
      <div class="row"><button type="submit">Save site settings</button></div>
    </${Form}>`}
  </${Section}>`;
}

export default function Storage({ ref }) {
  const buckets = useAsync(() => project(ref, '/storage/v1/bucket'), [ref]);
  const [bucket, setBucket] = useState(null);
  const action = useAction();
  const create = ({ name, isPublic }, form) => action.run(() => project(ref, '/storage/v1/bucket', { method: 'POST', body: { name, public: isPublic } }), `Bucket ${name} created.`)
    .then((ok) => { buckets.reload(); if (ok) { form.reset(); setBucket(name); } });
  const remove = (b) => confirm(`Empty and delete bucket ${b.name}?`) && action.run(async () => {
    await project(ref, `/storage/v1/bucket/${encodeURIComponent(b.id)}/empty`, { method: 'POST' });
    await project(ref, `/storage/v1/bucket/${encodeURIComponent(b.id)}`, { method: 'DELETE' });
  }, 'Bucket deleted.').then(() => { setBucket(null); buckets.reload(); });
  return html`<h1>Storage</h1>
    <${Section} title="Buckets">
      <${Loading} state=${buckets} />
      <${Notice} error=${action.error} message=${action.message} />
      <${DataTable} caption="Buckets" rows=${(buckets.data ?? []).map((b) => ({ name: b.name, public: b.public, size_limit: b.file_size_limit, created: fmtDate(b.created_at), _b: b }))}
        columns=${['name', 'public', 'size_limit', 'created']} empty="No buckets yet."
        actions=${(r) => html`<button type="button" onClick=${() => setBucket(r.name)} aria-pressed=${r.name === bucket}>Open ${r.name}</button><button type="button" onClick=${() => remove(r._b)}>Delete</button>`} />
      <${Form} label="New bucket" class="row" onSubmit=${create}>
        <${Field} label="Bucket name" name="name" required />
        <${Field} label="Public" type="checkbox" name="isPublic" />
        <button type="submit">Create bucket</button>
      </${Form}>
    </${Section}>
    ${bucket && html`<${Objects} key=${bucket} ref=${ref} bucket=${bucket} />`}
    <${Site} ref=${ref} />`;
}
