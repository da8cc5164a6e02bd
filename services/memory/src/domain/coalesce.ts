// Coalescing of concurrent work that shares a key (one project's embedding model, one caller's inserts): at most
// `parallel` batches of a key run at once; what arrives meanwhile queues, and the queue goes as the next batch
// (bounded by items and weight; a single entry beyond the bounds still goes, alone). A lone entry goes at once,
// so there is no wait when there is no queue: batches form only under load, from what would have waited anyway.

export interface CoalesceLimits {
  /** batches of one key in flight */
  parallel: number;
  /** items one batch may carry (an entry may carry several) */
  maxItems: number;
  /** weight (say characters) one batch may carry */
  maxWeight: number;
}

interface Lane<T> {
  queue: T[];
  running: number;
}

/**
 * `run` receives a batch of entries of one key and settles each entry itself (they carry their promises); should
 * it throw, every entry of the batch not settled yet is rejected with that error.
 */
export function coalescer<T extends { reject: (e: unknown) => void }>(limits: CoalesceLimits, size: (entry: T) => { items: number; weight: number }, run: (key: string, batch: T[]) => Promise<void>) {
  const lanes = new Map<string, Lane<T>>();

  function pump(key: string, lane: Lane<T>): void {
    while (lane.running < limits.parallel && lane.queue.length > 0) {
      const first = lane.queue.shift()!;
      const batch = [first];
      let { items, weight } = size(first);
      while (lane.queue.length > 0) {
        const next = size(lane.queue[0]);
        if (items + next.items > limits.maxItems || weight + next.weight > limits.maxWeight) break;
        batch.push(lane.queue.shift()!);
        items += next.items;
        weight += next.weight;
      }
      lane.running++;
      void run(key, batch).catch((e: unknown) => {
        for (const entry of batch) entry.reject(e);
      }).finally(() => {
        lane.running--;
        if (lane.running === 0 && lane.queue.length === 0) lanes.delete(key);
        else pump(key, lane);
      });
    }
  }

  return {
    push(key: string, entry: T): void {
      let lane = lanes.get(key);
      if (!lane) lanes.set(key, (lane = { queue: [], running: 0 }));
      lane.queue.push(entry);
      pump(key, lane);
    },
  };
}
