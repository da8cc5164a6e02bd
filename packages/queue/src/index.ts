// BullMQ with the settings durable queues need (security-and-reliability.md §3.2): workers block on Redis
// (maxRetriesPerRequest null), producers fail fast (no offline queue) so an HTTP handler never hangs on a
// Redis outage, every queue lives under BASALT_REDIS_PREFIX, and close() has a timeout of its own.
import { Queue, Worker, type Job, type Processor, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';

export type { Job, Queue, Worker };

export interface QueueConnectionOptions {
  redisUrl: string;
  /** BASALT_REDIS_PREFIX; queues live under `${prefix}bull` */
  prefix: string;
  onError?: (err: Error) => void;
}

const bullPrefix = (prefix: string) => `${prefix}bull`;

export function createQueue<T>(name: string, o: QueueConnectionOptions): Queue<T> {
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  connection.on('error', (err) => o.onError?.(err));
  const queue = new Queue<T>(name, { connection, prefix: bullPrefix(o.prefix) });
  queue.on('error', (err) => o.onError?.(err));
  return queue;
}

export function createWorker<T>(
  name: string,
  processor: Processor<T>,
  o: QueueConnectionOptions & Pick<WorkerOptions, 'concurrency' | 'lockDuration'>,
): Worker<T> {
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', (err) => o.onError?.(err));
  const worker = new Worker<T>(name, processor, {
    connection,
    prefix: bullPrefix(o.prefix),
    concurrency: o.concurrency ?? 8,
    lockDuration: o.lockDuration ?? 30_000,
    // Completed jobs are recorded in Postgres; Redis keeps only a short tail for debugging.
    removeOnComplete: { count: 1000 },
    removeOnFail: { count: 5000 },
  });
  worker.on('error', (err) => o.onError?.(err));
  return worker;
}

/** Stops fetching and waits for active jobs, but never longer than `timeoutMs` (BullMQ has no timeout itself). */
export async function closeWithin(closable: { close: () => Promise<void> }, timeoutMs: number): Promise<void> {
  await Promise.race([closable.close().catch(() => undefined), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
}
