// Human output by default (tables, a spinner on stderr for slow steps), JSON with --json for scripts.
export class Output {
  constructor(readonly json: boolean, private readonly stream: NodeJS.WriteStream = process.stdout) {}

  /** Prints data: as JSON with --json, else through the human formatter. */
  result(data: unknown, human?: (data: any) => string): void {
    this.stream.write(this.json || !human ? `${JSON.stringify(data, null, 2)}\n` : `${human(data)}\n`);
  }

  info(message: string): void {
    if (!this.json) process.stderr.write(`${message}\n`);
  }

  /** A progress line while `work` runs; a spinner on a terminal, one line otherwise. */
  async step<T>(label: string, work: () => Promise<T>): Promise<T> {
    if (this.json) return work();
    const tty = process.stderr.isTTY;
    const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let i = 0;
    const started = Date.now();
    const timer = tty ? setInterval(() => process.stderr.write(`\r${frames[i++ % frames.length]} ${label}`), 80) : undefined;
    if (!tty) process.stderr.write(`… ${label}\n`);
    try {
      const result = await work();
      if (tty) process.stderr.write(`\r✔ ${label} (${Date.now() - started} ms)\n`);
      return result;
    } catch (e) {
      if (tty) process.stderr.write(`\r✖ ${label}\n`);
      throw e;
    } finally {
      if (timer) clearInterval(timer);
    }
  }
}

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}
