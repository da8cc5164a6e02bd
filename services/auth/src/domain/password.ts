// Password hashing (bcrypt in libuv's thread pool, so hashing never blocks the event loop) and GoTrue's
// strength rules. bcrypt reads only 72 bytes: longer passwords are refused rather than silently truncated.
import bcrypt from 'bcrypt';
import { authErrors } from '../errors.js';
import type { AuthSettings } from './settings.js';

const CLASSES: Record<string, RegExp[]> = {
  '': [],
  letters_digits: [/[A-Za-z]/, /[0-9]/],
  lower_upper_letters_digits: [/[a-z]/, /[A-Z]/, /[0-9]/],
  lower_upper_letters_digits_symbols: [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/],
};

export function checkPasswordStrength(password: unknown, s: AuthSettings): string {
  if (typeof password !== 'string' || password.length === 0) throw authErrors.validation422('Password is required');
  if (Buffer.byteLength(password, 'utf8') > 72) throw authErrors.validation422('Password cannot be longer than 72 characters');
  const reasons: string[] = [];
  if (password.length < s.password_min_length) reasons.push('length');
  if (!CLASSES[s.password_required_characters].every((re) => re.test(password))) reasons.push('characters');
  if (reasons.length) {
    const msg = reasons.includes('length')
      ? `Password should be at least ${s.password_min_length} characters.`
      : 'Password should contain at least one character of each: lower case, upper case, digits and symbols as configured.';
    throw authErrors.weakPassword(msg, reasons);
  }
  return password;
}

export interface Passwords {
  hash(password: string): Promise<string>;
  /** Constant work whether or not the user exists: a missing hash is compared against a dummy one. */
  verify(password: string, hash: string | null): Promise<boolean>;
}

export function passwords(cost: number): Passwords {
  const dummy = bcrypt.hashSync('basalt-dummy-password', cost);
  return {
    hash: (password) => bcrypt.hash(password, cost),
    async verify(password, hash) {
      if (Buffer.byteLength(password, 'utf8') > 72) return false;
      const ok = await bcrypt.compare(password, hash ?? dummy);
      return ok && hash !== null;
    },
  };
}
