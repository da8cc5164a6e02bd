// What a trigger-capture feed has received, so that after a lost LISTEN connection it can read back from
// realtime.change_log exactly the changes it missed. Changes are numbered by realtime.change_seq, in the order
// they were made (commit order may differ), so the set is kept as sorted runs of numbers: a run grows as changes
// arrive, and a gap is a change rolled back, or one not arrived yet. Samples of the highest number received say
// where a read-back starts: the changes made in the last `ageMs` before the loss.
export class SeenChanges {
  /** sorted, disjoint, non-adjacent runs [lo, hi], flat: lo0, hi0, lo1, hi1, … */
  #runs: number[] = [];
  /** [time, highest number received by then], oldest first */
  #samples: [number, number][];
  #max: number;

  /** `start`: the highest number already made when the feed started (nothing at or below it is read back). */
  constructor(start: number, now = Date.now(), private readonly keepMs = 300_000) {
    this.#max = start;
    this.#samples = [[now, start]];
  }

  has(id: number): boolean {
    const i = this.#runAtOrBefore(id);
    return i >= 0 && this.#runs[i + 1] >= id;
  }

  /** Records a change; false if it was already recorded. */
  add(id: number): boolean {
    const r = this.#runs;
    if (id > this.#max) this.#max = id;
    const n = r.length;
    // the usual case: the next change after the last run
    if (n && id === r[n - 1] + 1) {
      r[n - 1] = id;
      return true;
    }
    if (!n || id > r[n - 1]) {
      r.push(id, id);
      return true;
    }
    const i = this.#runAtOrBefore(id);
    if (i >= 0 && r[i + 1] >= id) return false;
    const joinsLeft = i >= 0 && r[i + 1] === id - 1;
    const right = i + 2;
    const joinsRight = right < n && r[right] === id + 1;
    if (joinsLeft && joinsRight) r.splice(i + 1, 2);
    else if (joinsLeft) r[i + 1] = id;
    else if (joinsRight) r[right] = id;
    else r.splice(right, 0, id, id);
    return true;
  }

  /** The highest number received `ageMs` before `now` (the start, for a feed younger than that). */
  floor(ageMs: number, now = Date.now()): number {
    let f = this.#samples[0][1];
    for (const [t, max] of this.#samples) {
      if (t > now - ageMs) break;
      f = max;
    }
    return f;
  }

  /** Whether the samples reach back `ageMs` (the feed is at least that old): only then is floor(ageMs) that old. */
  reaches(ageMs: number, now = Date.now()): boolean {
    return this.#samples[0][0] <= now - ageMs;
  }

  /** Takes a sample (every second or so); forgets samples and runs older than keepMs. */
  sample(now = Date.now()): void {
    this.#samples.push([now, this.#max]);
    let drop = 0;
    while (drop < this.#samples.length - 1 && this.#samples[drop + 1][0] <= now - this.keepMs) drop++;
    if (drop) this.#samples.splice(0, drop);
    const below = this.#samples[0][1];
    let cut = 0;
    while (cut < this.#runs.length && this.#runs[cut + 1] < below) cut += 2;
    if (cut) this.#runs.splice(0, cut);
  }

  get runs(): number {
    return this.#runs.length / 2;
  }

  /** index (even) of the last run whose lo <= id, or -1 */
  #runAtOrBefore(id: number): number {
    const r = this.#runs;
    let lo = 0;
    let hi = r.length / 2 - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (r[mid * 2] <= id) {
        found = mid * 2;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}
