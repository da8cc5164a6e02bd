// `basalt link <ref>` writes .basalt-project.json in a folder, so commands run there (or below it) need no ref.
// Not `.basalt/`: in the repo root that folder holds the dev fleet's own credentials, secrets and logs.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CliError } from './command.js';

export const LINK_FILE = '.basalt-project.json';

export interface ProjectLink {
  ref: string;
  name?: string;
  url?: string;
}

/** The nearest link file from `cwd` upwards, as git finds its repository. */
export function findLink(cwd = process.cwd()): { path: string; link: ProjectLink } | null {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const path = join(dir, LINK_FILE);
    if (existsSync(path)) {
      let link: Partial<ProjectLink>;
      try {
        link = JSON.parse(readFileSync(path, 'utf8'));
      } catch (e) {
        throw new CliError(`${path} is not valid JSON (${(e as Error).message}); run \`basalt link <ref>\` again`);
      }
      if (typeof link.ref !== 'string') throw new CliError(`${path} has no "ref"; run \`basalt link <ref>\` again`);
      return { path, link: link as ProjectLink };
    }
    if (dirname(dir) === dir) return null;
  }
}

export function writeLink(link: ProjectLink, cwd = process.cwd()): string {
  const path = join(resolve(cwd), LINK_FILE);
  writeFileSync(path, `${JSON.stringify(link, null, 2)}\n`);
  return path;
}

/** Removes the link of this folder (not of a parent); the path removed, or null. */
export function removeLink(cwd = process.cwd()): string | null {
  const path = join(resolve(cwd), LINK_FILE);
  if (!existsSync(path)) return null;
  rmSync(path);
  return path;
}
