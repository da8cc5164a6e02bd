// Small input rules shared by the flows.
import { authErrors } from '../errors.js';

// GoTrue's validateEmail: badoux/checkmail's format (a dot in the domain is not required), at most 255
// characters, nothing trimmed, stored lower-cased.
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

export function parseEmail(value: unknown): string {
  if (value === undefined || value === null || value === '') throw authErrors.validation('An email address is required');
  if (typeof value !== 'string') throw authErrors.validation('Unable to validate email address: invalid format');
  if (value.length > 255) throw authErrors.validation('An email address is too long');
  if (!EMAIL.test(value)) throw authErrors.validation('Unable to validate email address: invalid format');
  return value.toLowerCase();
}

/** The most user_metadata or app_metadata holds, as JSON text: it travels in every access token of the user. */
export const METADATA_MAX_CHARS = 64 * 1024;

export const metadataTooLarge = (field: string) => authErrors.validation(`${field} is too large`);

export function parseMetadata(value: unknown, field = 'data'): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw authErrors.validation(`${field} must be a JSON object`);
  if (JSON.stringify(value).length > METADATA_MAX_CHARS) throw metadataTooLarge(field);
  return value as Record<string, unknown>;
}

export const isUuid = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
