// Small helpers for building parameterised SQL over the storage form.
import { escapeLiteral } from 'pg';
import { docErrors } from '../errors.js';

/** `a.b.0` → ['a','b','0']; empty components and `$` fields are refused. */
export function parsePath(path: string, what = 'field path'): string[] {
  const parts = path.split('.');
  if (!path || parts.some((p) => p === '')) throw docErrors.badValue(`invalid ${what} "${path}"`);
  if (parts[0].startsWith('$')) throw docErrors.unknownOperator(parts[0]);
  return parts;
}

/** pathExpr's answers for `doc`, by path (emptied when it grows past 4096 paths) */
const docPaths = new Map<string, string>();

/** `(doc #> '{a,b}')` with the path inlined, so it matches an expression index exactly. */
export function pathExpr(root: string, path: string[]): string {
  if (path.length === 0) return root;
  if (root === 'doc' && path.length === 1 && path[0] === '_id') return 'id';
  if (root !== 'doc') return arrowPath(root, path);
  const key = JSON.stringify(path);
  let e = docPaths.get(key);
  if (e === undefined) {
    if (docPaths.size >= 4096) docPaths.clear();
    docPaths.set(key, (e = arrowPath(root, path)));
  }
  return e;
}

function arrowPath(root: string, path: string[]): string {
  const arr = `{${path.map((p) => `"${p.replace(/(["\\])/g, '\\$1')}"`).join(',')}}`;
  return `(${root} #> ${escapeLiteral(arr)})`;
}

/** A jsonpath for a field path: `$."a"."b"`, numeric components as array subscripts too (lax mode). */
export function jsonPath(path: string[]): string {
  return '$' + path.map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${jsonPathString(p)}`)).join('');
}

export const jsonPathString = (s: string) => JSON.stringify(s);

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
