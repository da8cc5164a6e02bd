// Reconnecting a database connection the capture lives on (the LISTEN connection, the replication stream): tried
// after 100 ms, then at doubling intervals up to 2 s, until it works, the owner stops, or the deadline passes.
const FIRST_MS = 100;
const MAX_MS = 2_000;

/**
 * Runs `attempt` until it resolves (true) or `stopped()` (false); past `deadline` (ms since the epoch) the last
 * error is thrown, `cause` if no attempt was made.
 */
export async function reconnect(attempt: () => Promise<void>, o: { deadline: number; stopped: () => boolean; cause: Error }): Promise<boolean> {
  let delay = FIRST_MS;
  let last = o.cause;
  while (!o.stopped() && Date.now() < o.deadline) {
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, MAX_MS);
    if (o.stopped()) return false;
    try {
      await attempt();
      return true;
    } catch (e) {
      last = e as Error;
    }
  }
  if (o.stopped()) return false;
  throw last;
}
