// What route modules are given.
import type { Passwords } from '../domain/password.js';
import type { RateLimit } from '../domain/rate-limit.js';

export interface RouteDeps {
  pw: Passwords;
  limit: RateLimit;
}
