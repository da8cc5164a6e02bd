// Cost of a request from a per-model price table (USD per million tokens). The built-in table covers common
// models and is a default only: the operator overrides or extends it with AI_PRICES; unknown models cost 0.
import type { Prices } from '../config.js';
import { globMatcher } from './glob.js';
import type { Usage } from './usage.js';

export interface Price {
  input: number;
  output: number;
  /** cache reads; defaults to input */
  cached_input?: number;
  /** cache writes; defaults to input */
  cache_write?: number;
}

// Most specific first: the first matching entry wins.
const BUILT_IN: [string, Price][] = [
  ['gpt-4o-mini*', { input: 0.15, output: 0.6, cached_input: 0.075 }],
  ['gpt-4o*', { input: 2.5, output: 10, cached_input: 1.25 }],
  ['gpt-4.1-nano*', { input: 0.1, output: 0.4, cached_input: 0.025 }],
  ['gpt-4.1-mini*', { input: 0.4, output: 1.6, cached_input: 0.1 }],
  ['gpt-4.1*', { input: 2, output: 8, cached_input: 0.5 }],
  ['gpt-5-nano*', { input: 0.05, output: 0.4, cached_input: 0.005 }],
  ['gpt-5-mini*', { input: 0.25, output: 2, cached_input: 0.025 }],
  ['gpt-5*', { input: 1.25, output: 10, cached_input: 0.125 }],
  ['o4-mini*', { input: 1.1, output: 4.4, cached_input: 0.275 }],
  ['text-embedding-3-small', { input: 0.02, output: 0 }],
  ['text-embedding-3-large', { input: 0.13, output: 0 }],
  ['claude-*haiku-4*', { input: 1, output: 5, cached_input: 0.1, cache_write: 1.25 }],
  ['claude-3-5-haiku*', { input: 0.8, output: 4, cached_input: 0.08, cache_write: 1 }],
  ['claude-*sonnet*', { input: 3, output: 15, cached_input: 0.3, cache_write: 3.75 }],
  ['claude-*opus-4-5*', { input: 5, output: 25, cached_input: 0.5, cache_write: 6.25 }],
  ['claude-*opus*', { input: 15, output: 75, cached_input: 1.5, cache_write: 18.75 }],
];

export interface PriceBook {
  priceOf: (model: string) => Price | null;
  costOf: (model: string, usage: Usage) => number;
}

export function priceBook(overrides: Prices): PriceBook {
  const entries = [...Object.entries(overrides), ...BUILT_IN].map(([pattern, price]) => ({ match: globMatcher(pattern), price }));
  const cache = new Map<string, Price | null>();
  const priceOf = (model: string): Price | null => {
    let hit = cache.get(model);
    if (hit === undefined) {
      hit = entries.find((e) => e.match(model))?.price ?? null;
      if (cache.size < 10_000) cache.set(model, hit);
    }
    return hit;
  };
  return {
    priceOf,
    costOf: (model, u) => {
      const p = priceOf(model);
      if (!p) return 0;
      const uncached = Math.max(0, u.input - u.cached - u.cacheWrite);
      const micro = uncached * p.input + u.cached * (p.cached_input ?? p.input) + u.cacheWrite * (p.cache_write ?? p.input) + u.output * p.output;
      return Math.round(micro * 1000) / 1e9; // per million tokens → USD, kept to 1e-9
    },
  };
}
