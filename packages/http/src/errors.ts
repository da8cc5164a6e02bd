// The wire shapes of the APIs we are compatible with: a service's error handler (createService's errorShape)
// renders every BasaltError in one of them.
import type { BasaltError } from '@basalt/errors';

/** Shapes of the APIs we are compatible with. */
export const errorShapes = {
  /** our own APIs (platform, cron, assets admin) */
  basalt: (e: BasaltError) => ({ code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) }),
  postgrest: (e: BasaltError) => ({ code: e.code, message: e.message, details: e.details ?? null, hint: e.hint ?? null }),
  gotrue: (e: BasaltError) => ({ code: e.status, error_code: e.code, msg: e.message }),
  /** Storage answers most errors with HTTP 400 and the logical status as a string (details.statusCode). */
  storage: (e: BasaltError) => {
    const d = (e.details ?? {}) as { statusCode?: string; error?: string };
    return { statusCode: d.statusCode ?? String(e.status), code: e.code, error: d.error ?? e.code, message: e.message };
  },
  openai: (e: BasaltError) => ({ error: { type: e.code, message: e.message, code: e.code } }),
} satisfies Record<string, (e: BasaltError) => unknown>;
