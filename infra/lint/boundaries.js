// The architecture's boundaries as a lint rule (STYLE.md "Boundaries"): a service never imports another service
// (nor the gateway, which is a service too), a package never imports a service, and nobody reaches into another
// package's src/ — packages are used through their curated entry point (@basalt/<name>).
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const list = (dir) => (existsSync(join(ROOT, dir)) ? readdirSync(join(ROOT, dir), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : []);
const SERVICE_NAMES = new Set([...list('services'), 'gateway']);

/** 'services/rest' | 'gateway' | 'packages/db' | null for a repo-relative path. */
function unitOf(repoPath) {
  const [top, name] = repoPath.split(sep);
  if (top === 'gateway') return { kind: 'service', name: 'gateway', root: 'gateway' };
  if (top === 'services' && name) return { kind: 'service', name, root: `services/${name}` };
  if (top === 'packages' && name) return { kind: 'package', name, root: `packages/${name}` };
  return null;
}

function check(context, node, specifier) {
  if (typeof specifier !== 'string') return;
  const file = relative(ROOT, context.filename);
  const from = unitOf(file);
  const report = (message) => context.report({ node, message });
  const deep = /^@basalt\/([^/]+)\/(.+)$/.exec(specifier);
  if (deep) return report(`"${specifier}" reaches into @basalt/${deep[1]}: import its entry point "@basalt/${deep[1]}"`);
  const named = /^@basalt\/([^/]+)$/.exec(specifier);
  if (named && SERVICE_NAMES.has(named[1]) && !(from?.kind === 'service' && from.name === named[1])) {
    return report(`"${specifier}" is a service: services talk over HTTP or a queue, never by import`);
  }
  if (!specifier.startsWith('.') || !from) return;
  const target = unitOf(relative(ROOT, resolve(dirname(context.filename), specifier)));
  if (!target || target.root === from.root) return;
  if (target.kind === 'service') {
    return report(`"${specifier}" imports the ${target.name} service from ${from.kind === 'service' ? `the ${from.name} service` : `package ${from.name}`}: services are reached over HTTP or a queue`);
  }
  return report(`"${specifier}" reaches into packages/${target.name} by path: import "@basalt/${target.name}"`);
}

export const boundaries = {
  rules: {
    imports: {
      meta: { type: 'problem', docs: { description: 'service and package boundaries' }, schema: [] },
      create: (context) => ({
        ImportDeclaration: (node) => check(context, node, node.source.value),
        ExportNamedDeclaration: (node) => node.source && check(context, node, node.source.value),
        ExportAllDeclaration: (node) => check(context, node, node.source.value),
        ImportExpression: (node) => node.source.type === 'Literal' && check(context, node, node.source.value),
      }),
    },
  },
};
