// Small input rules shared by the flows.
import { authErrors } from '../errors.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function parseEmail(value: unknown): string {
  if (typeof value !== 'string' || value.length > 255 || !EMAIL.test(value.trim())) throw authErrors.validation('Unable to validate email address: invalid format');
  return value.trim().toLowerCase();
}

export function parseMetadata(value: unknown, field = 'data'): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw authErrors.validation(`${field} must be a JSON object`);
  if (JSON.stringify(value).length > 64 * 1024) throw authErrors.validation(`${field} is too large`);
  return value as Record<string, unknown>;
}

export const isUuid = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
