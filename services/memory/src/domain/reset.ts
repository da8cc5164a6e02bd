// A project-wide reset of its memories, in two steps: the first call returns a token (HMAC with the project's
// secret, valid two minutes), the second, carrying it, deletes every memory, history row, entity and event.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { resetProject } from '../db/cache.js';
import { memErrors } from '../errors.js';
import { asService, type Ctx } from './context.js';

const TTL_S = 120;

function sign(secret: string, ref: string, exp: number): string {
  return createHmac('sha256', secret).update(`memory-reset:${ref}:${exp}`).digest('base64url');
}

export function resetDomain() {
  return {
    async reset(ctx: Ctx, confirm: string | undefined) {
      if (ctx.caller.kind === 'user') throw memErrors.serviceOnly('A reset');
      const { ref, jwtSecret } = ctx.caller.project;
      const now = Math.floor(Date.now() / 1000);
      if (!confirm) {
        const exp = now + TTL_S;
        return {
          message: 'This deletes every memory of the project. Call again within two minutes with {"confirm": confirm_token}.',
          confirm_token: `${exp}.${sign(jwtSecret, ref, exp)}`, expires_in: TTL_S,
        };
      }
      const [expText, sig] = confirm.split('.');
      const exp = Number(expText);
      const expected = Number.isInteger(exp) ? Buffer.from(sign(jwtSecret, ref, exp)) : null;
      const given = Buffer.from(sig ?? '');
      if (!expected || exp < now || given.length !== expected.length || !timingSafeEqual(given, expected)) throw memErrors.resetConfirm();
      const deleted = await asService(ctx, (tx) => resetProject(tx));
      return { message: 'Memories reset successfully!', deleted };
    },
  };
}

export type ResetDomain = ReturnType<typeof resetDomain>;
