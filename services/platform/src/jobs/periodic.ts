// Background passes of the platform (quota check, sleeper, statement watchdog): one every interval, never two at
// once in a replica (a pass slower than the interval skips the ticks it overlaps), a failed pass logged and the next
// one run as usual. Several replicas may run the same pass at once: each pass is written to allow it.
import type { Logger } from '@basalt/http';

export function periodic<T>(
  what: string, intervalMs: number, pass: () => Promise<T>, log: Logger, report: (result: T) => void = () => undefined,
): { stop: () => void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    pass()
      .then(report)
      .catch((err: Error) => log.warn({ err: err.message }, `${what} failed`))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
