// Human output by default (tables), JSON with --json for scripts. Spinners and progress bars go to stderr, and
// only when stderr is a terminal, so piped or captured output never holds them.
export interface Progress {
  /** `n` more units done; `detail` names the last one */
  tick(n?: number, detail?: string): void;
  /** the bar's final line (a terminal) or nothing */
  done(summary?: string): void;
}

const BAR_WIDTH = 24;

export function renderBar(label: string, done: number, total: number, detail = ''): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(ratio * BAR_WIDTH);
  return `${label} [${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${done}/${total}${detail ? ` ${detail}` : ''}`;
}

export class Output {
  constructor(
    readonly json: boolean,
    private readonly stream: NodeJS.WritableStream = process.stdout,
    private readonly err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number } = process.stderr,
  ) {}

  /** Prints data: as JSON with --json, else through the human formatter. */
  result(data: unknown, human?: (data: any) => string): void {
    this.stream.write(this.json || !human ? `${JSON.stringify(data, null, 2)}\n` : `${human(data)}\n`);
  }

  info(message: string): void {
    if (!this.json) this.err.write(`${message}\n`);
  }

  get tty(): boolean {
    return this.err.isTTY === true;
  }

  /** A spinner on a terminal while `work` runs; nothing otherwise. */
  async step<T>(label: string, work: () => Promise<T>): Promise<T> {
    if (!this.tty) return work();
    const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let i = 0;
    const started = Date.now();
    const timer = setInterval(() => this.err.write(`\r${frames[i++ % frames.length]} ${label}`), 80);
    try {
      const result = await work();
      this.err.write(`\r✔ ${label} (${Date.now() - started} ms)\x1b[K\n`);
      return result;
    } catch (e) {
      this.err.write(`\r✖ ${label}\x1b[K\n`);
      throw e;
    } finally {
      clearInterval(timer);
    }
  }

  /** A progress bar of `total` units on a terminal; a no-op otherwise. */
  progress(label: string, total: number): Progress {
    if (!this.tty) return { tick: () => undefined, done: () => undefined };
    let done = 0;
    const width = Math.max(40, (this.err.columns ?? 80) - 1);
    const draw = (detail?: string) => this.err.write(`\r${renderBar(label, done, total, detail).slice(0, width)}\x1b[K`);
    draw();
    return {
      tick: (n = 1, detail) => {
        done = Math.min(total, done + n);
        draw(detail);
      },
      done: (summary) => {
        done = total;
        draw(summary);
        this.err.write('\n');
      },
    };
  }
}

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}
