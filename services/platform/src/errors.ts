// Errors of the platform API, rendered as {code, message, details?}.
import { BasaltError } from '@basalt/errors';

export const platformErrors = {
  unauthorized: () => new BasaltError(401, 'unauthorized', 'A valid platform token (Authorization: Bearer bsp_…) is required'),
  forbiddenProject: (ref: string) => new BasaltError(403, 'forbidden', `This token has no access to project ${ref}`),
  projectNotFound: (ref: string) => new BasaltError(404, 'project_not_found', `Project ${ref} not found`),
  tokenNotFound: (id: string) => new BasaltError(404, 'token_not_found', `Token ${id} not found`),
  confirmMismatch: (ref: string) =>
    new BasaltError(400, 'confirmation_required', `Deleting a project is permanent: repeat its ref as ?confirm=${ref}`),
  sql: (e: { message: string; code?: string; position?: string; detail?: string; hint?: string }) =>
    new BasaltError(400, 'sql_error', e.message, {
      details: { sqlstate: e.code ?? null, position: e.position ?? null, detail: e.detail ?? null, hint: e.hint ?? null },
    }),
  domainTaken: (domain: string) => new BasaltError(409, 'domain_taken', `Domain ${domain} is already mapped to a project`),
  validation: (message: string, details?: unknown) => new BasaltError(400, 'validation_failed', message, { details }),
};
