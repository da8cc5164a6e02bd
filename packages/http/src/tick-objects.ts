// process.nextTick queues each callback as an object literal with two computed (symbol) keys, and every stream
// event, socket write and request end goes through it. V8 shares the hidden classes of such literals through a weak
// cache: when a full GC finds no queued tick alive, those classes are collected and the next tick builds new ones.
// After a few rounds the literal's feedback is megamorphic, TurboFan compiles nextTick (and the stream code it is
// inlined into) with a runtime call per property, and objects migrate between deprecated maps: measured here at
// ~2.5 µs of a Fastify service's ~22 µs per /health (Runtime_DefineKeyedOwnPropertyInLiteral, MigrateToMap and
// map transitions under endReadable, onwrite, resume and nextTick in perf), in the services but not in a bare
// Fastify server. One tick object kept for the life of the process keeps its class chain alive, and the fast path.
import { createHook } from 'node:async_hooks';

let pinned: object | null = null;

const noop = () => undefined;

/** Keeps one of process.nextTick's queue entries (with arguments, as streams queue them) alive; once per process. */
export function pinTickObjectShape(): void {
  if (pinned) return;
  // an init hook sees the entry as nextTick made it; it is on only for this one call
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (type === 'TickObject' && !pinned) pinned = resource;
    },
  }).enable();
  try {
    process.nextTick(noop, 0, 0);
  } finally {
    hook.disable();
  }
}

/** whether the entry is held (for tests) */
export const tickObjectPinned = (): boolean => pinned !== null;
