// The plan's memory_count (project.quotas): an add that would take the project past it is refused before anything
// is embedded, written or queued. Concurrent adds may each see room and overshoot by their own few memories.
import { countAllMemories } from '../db/memories.js';
import { memErrors } from '../errors.js';
import { asService, type Ctx } from './context.js';

export async function assertMemoryRoom(ctx: Ctx, adding: number): Promise<void> {
  const quota = ctx.caller.project.quotas.memory_count;
  if (quota === null) return;
  const held = await asService(ctx, (tx) => countAllMemories(tx));
  if (held + adding > quota) throw memErrors.memoryQuota(quota);
}
