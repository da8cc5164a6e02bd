// The globals a Supabase-style function expects, for `basalt functions serve` in Node: Deno.serve (its handler is
// captured, not listened on), Deno.env (the folder's .env file and the project values), EdgeRuntime.waitUntil.
export type Handler = (req: Request) => Response | Promise<Response>;

let captured: Handler | null = null;
let env: Record<string, string> = {};

export function installDenoShim(): void {
  const g = globalThis as Record<string, unknown>;
  g.Deno = {
    serve(a: unknown, b?: unknown) {
      const h = typeof a === 'function' ? a : typeof b === 'function' ? b : (a as { handler?: Handler } | undefined)?.handler;
      captured = (h as Handler) ?? null;
      return { finished: Promise.resolve(), shutdown: async () => undefined, ref() {}, unref() {} };
    },
    env: {
      get: (k: string) => env[k],
      has: (k: string) => k in env,
      toObject: () => ({ ...env }),
      set: (k: string, v: string) => void (env[k] = v),
      delete: (k: string) => void delete env[k],
    },
  };
  g.EdgeRuntime = { waitUntil: (p: Promise<unknown>) => void Promise.resolve(p).catch(() => undefined) };
}

export function setEnv(values: Record<string, string>): void {
  env = { ...values };
}

/** Runs a module's top level with a fresh capture slot; the handler it registered with Deno.serve, if any. */
export async function loadHandler(importModule: () => Promise<{ default?: { fetch?: (req: Request, env: unknown) => Response | Promise<Response> } }>): Promise<Handler | null> {
  captured = null;
  const mod = await importModule();
  if (typeof mod.default?.fetch === 'function') return (req) => mod.default!.fetch!(req, { ...env });
  return captured;
}
