// Where a project's functions run: settings.functions.target, validated by the platform on write (its api_token
// sealed there and opened by the registry). Read leniently here: anything but a complete cloudflare target is
// the local workerd runtime, the default.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Project } from '@basalt/tenancy';

export const CLOUDFLARE_API = 'https://api.cloudflare.com/client/v4';

const Cloudflare = z.object({
  kind: z.literal('cloudflare'),
  account_id: z.string().min(1),
  namespace: z.string().min(1),
  api_token: z.string().min(1),
  dispatch_url: z.string().url(),
  api_url: z.string().url().optional(),
});

export type CloudflareTarget = z.infer<typeof Cloudflare>;

/** per registry Project object (a settings change makes a new one), so an invocation does not parse settings again */
const targets = new WeakMap<Project, CloudflareTarget | null>();

export function remoteTarget(project: Project): CloudflareTarget | null {
  let t = targets.get(project);
  if (t === undefined) {
    const parsed = Cloudflare.safeParse((project.settings.functions as { target?: unknown } | undefined)?.target);
    targets.set(project, (t = parsed.success ? parsed.data : null));
  }
  return t;
}

/**
 * The function's script name in the dispatch namespace: `<ref>--<slug>`, the same on every replica and every
 * deploy. Slugs allow upper case and 128 characters; a script name is kept lower case and at most 63 characters,
 * so such slugs get a hash of the original to stay distinct (Foo and foo are two functions).
 */
export function scriptName(ref: string, slug: string): string {
  const plain = `${ref}--${slug}`;
  if (plain === plain.toLowerCase() && plain.length <= 63) return plain;
  const hash = createHash('sha256').update(slug).digest('hex').slice(0, 8);
  return `${ref}--${slug.toLowerCase().slice(0, Math.max(1, 63 - ref.length - 11))}-${hash}`;
}
