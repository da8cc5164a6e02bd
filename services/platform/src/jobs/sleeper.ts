// Every PROJECT_SLEEP_CHECK_S: projects idle past their limit go to sleep. Several platform replicas may run it at
// once: the flag is set by a conditional update, so each project is put to sleep once.
import type { Logger } from '@basalt/http';
import type { SleepDomain } from '../domain/sleep.js';

export function startSleeper(sleep: SleepDomain, intervalMs: number, log: Logger): { stop: () => void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sleep.sleepIdle()
      .then((refs) => refs.length && log.info({ refs }, 'idle projects put to sleep'))
      .catch((err: Error) => log.warn({ err: err.message }, 'sleeper pass failed'))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
