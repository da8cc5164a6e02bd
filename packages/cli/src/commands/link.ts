// basalt link <ref> | basalt unlink: ties the current folder to a project (.basalt-project.json), so commands run
// in it or below it need no ref.
import { flag, REF, usageError, type Command } from '../command.js';
import { findLink, LINK_FILE, removeLink, writeLink } from '../project-link.js';

const usage = 'basalt link <ref>   (writes .basalt-project.json here) | basalt link --show';

export const linkCommand: Command = {
  name: 'link',
  summary: `link this folder to a project (${LINK_FILE}), so later commands need no ref`,
  usage,
  flags: ['show', 'project-ref'],
  async run(ctx) {
    if (ctx.flags.show === true) {
      const found = findLink();
      if (!found) throw usageError(usage, 'this folder is not linked');
      return ctx.out.result({ ...found.link, file: found.path }, (r) => `${r.ref}${r.name ? ` (${r.name})` : ''}\n${r.file}`);
    }
    const ref = ctx.args[0] ?? flag(ctx.flags, 'project-ref');
    if (!ref) throw usageError(usage, 'give the project ref to link');
    if (!REF.test(ref)) throw usageError(usage, `"${ref}" is not a project ref (20 lowercase letters)`);
    const project = await ctx.api().get<{ ref: string; name: string; url: string }>(`/projects/${ref}`);
    const file = writeLink({ ref: project.ref, name: project.name, url: project.url });
    ctx.out.result({ ref: project.ref, name: project.name, url: project.url, file }, (r) => `linked to ${r.ref} (${r.name})\nwrote ${r.file}`);
  },
};

export const unlinkCommand: Command = {
  name: 'unlink',
  summary: "remove this folder's link to a project",
  usage: 'basalt unlink',
  async run(ctx) {
    const removed = removeLink();
    ctx.out.result({ removed }, (r) => (r.removed ? `removed ${r.removed}` : 'this folder is not linked'));
  },
};
