// docker-compose.yml and k8s/ are generated from the code's service list; this fails when they drift
// (run `npm run gen:deploy`), and checks that kustomize renders a Deployment and Service per service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT } from '@basalt/fleet';
import { nodeArgs, present, render } from '@basalt/deploy';

test('committed deployment files match what the code generates (npm run gen:deploy)', () => {
  for (const [path, content] of Object.entries(render())) {
    assert.equal(readFileSync(join(ROOT, path), 'utf8'), content, `${path} is stale: run npm run gen:deploy`);
  }
});

test('docker-compose.yml runs every service on its port with the shared env and the peers it calls', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });
  for (const name of ['postgres', 'redis', 'minio']) assert.ok(compose.services[name], name);
  assert.match(compose.services.postgres.image, /pgvector/);
  for (const s of present()) {
    const svc = compose.services[s.name];
    assert.ok(svc, s.name);
    assert.deepEqual(svc.command, [...(s.nodeArgs ?? []), '--enable-source-maps', `dist/${s.name}.mjs`]);
    assert.deepEqual(svc.command, nodeArgs(s));
    assert.equal(svc.environment.PORT, String(s.port));
    assert.ok(svc.environment.DATABASE_URL && svc.environment.BASALT_MASTER_KEY, `${s.name} gets the shared env`);
  }
  for (const s of present().filter((x) => x.urlEnv)) {
    assert.equal(compose.services.gateway.environment[s.urlEnv!], `http://${s.name}:${s.port}`);
  }
});

test('kubectl kustomize k8s/ renders a Deployment and Service for every service, an HPA, Ingress, ConfigMap and Secret', (t) => {
  if (spawnSync('sh', ['-c', 'command -v kubectl']).status !== 0) return t.skip('kubectl is not installed');
  const docs = parseAllDocuments(execFileSync('kubectl', ['kustomize', join(ROOT, 'k8s')], { encoding: 'utf8' })).map((d) => d.toJS());
  const of = (kind: string) => docs.filter((d) => d.kind === kind).map((d) => d.metadata.name);
  for (const s of present()) {
    assert.ok(of('Deployment').includes(s.name), `Deployment ${s.name}`);
    assert.ok(of('Service').includes(s.name), `Service ${s.name}`);
    const dep = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === s.name);
    const container = dep.spec.template.spec.containers[0];
    assert.equal(container.ports[0].containerPort, s.port);
    assert.deepEqual(container.args, [...(s.nodeArgs ?? []), '--enable-source-maps', `dist/${s.name}.mjs`]);
    assert.equal(container.readinessProbe.httpGet.path, '/ready');
  }
  assert.ok(of('HorizontalPodAutoscaler').includes('gateway'));
  assert.ok(of('Ingress').length === 1);
  const config = docs.find((d) => d.kind === 'ConfigMap');
  for (const s of present().filter((x) => x.urlEnv)) assert.equal(config.data[s.urlEnv!], `http://${s.name}:${s.port}`);
  assert.ok(docs.every((d) => d.kind === 'Namespace' || d.metadata.namespace === 'basalt'));
});
