// Keeps one child process running: a process that exits without being asked to is started again after a
// backoff that doubles with each crash in the window, and one that keeps crashing is given up on with the
// reason (exit code or signal, and the last lines it wrote), so a crash loop is reported, not hidden.
import type { ChildProcess } from 'node:child_process';

export interface RestartPolicy {
  /** delay before the first restart; doubles with each further crash inside the window */
  initialDelayMs: number;
  maxDelayMs: number;
  /** more than this many crashes inside windowMs is a crash loop */
  maxCrashes: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 250, maxDelayMs: 8_000, maxCrashes: 5, windowMs: 60_000 };

export interface SupervisorEvents {
  /** the process exited on its own and will be started again in `delayMs` */
  onRestart?: (info: { name: string; code: number | null; signal: NodeJS.Signals | null; attempt: number; delayMs: number; output: string }) => void;
  /** the process crashed more than maxCrashes times inside the window: it stays down */
  onGiveUp?: (info: { name: string; reason: string }) => void;
  /** every (re)started process, so owners can track the current one */
  onSpawn?: (child: ChildProcess) => void;
}

/** sysexits' EX_CONFIG, which a service exits with when its configuration cannot work */
export const EX_CONFIG = 78;

const describeExit = (code: number | null, signal: NodeJS.Signals | null) => (signal ? `was killed by ${signal}` : `exited with code ${code}`);

export class Supervisor {
  private crashes: number[] = [];
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  child: ChildProcess;

  constructor(
    readonly name: string,
    private readonly spawnChild: () => ChildProcess,
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
    private readonly events: SupervisorEvents = {},
    /** the last lines the process wrote, for the give-up reason */
    private readonly tail: () => string = () => '',
  ) {
    this.child = this.start();
  }

  private start(): ChildProcess {
    const child = this.spawnChild();
    this.events.onSpawn?.(child);
    child.once('exit', (code, signal) => this.exited(code, signal));
    return child;
  }

  private exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopped) return;
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < this.policy.windowMs), now];
    const attempt = this.crashes.length;
    // EX_CONFIG: the process said its configuration cannot work (a wrong master key); a restart only repeats it.
    if (code === EX_CONFIG || attempt > this.policy.maxCrashes) {
      const last = this.tail().trim();
      const why = code === EX_CONFIG ? 'because of its configuration' : `and crashed ${attempt} times in ${Math.round(this.policy.windowMs / 1000)} s`;
      const reason = `${this.name} ${describeExit(code, signal)} ${why}; not restarting it${last ? `. Its last output:\n${last}` : ''}`;
      this.stopped = true;
      return this.events.onGiveUp?.({ name: this.name, reason });
    }
    const delayMs = Math.min(this.policy.initialDelayMs * 2 ** (attempt - 1), this.policy.maxDelayMs);
    this.events.onRestart?.({ name: this.name, code, signal, attempt, delayMs, output: this.tail().trim() });
    this.timer = setTimeout(() => {
      if (!this.stopped) this.child = this.start();
    }, delayMs);
  }

  /** Stops supervising; the caller stops the process itself. */
  release(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  get givenUp(): boolean {
    return this.stopped;
  }
}
