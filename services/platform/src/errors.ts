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
  domainTaken: (domain: string) => new BasaltError(409, 'domain_taken', `Domain ${domain} is already active in another project`),
  domainNotFound: (ref: string, domain: string) =>
    new BasaltError(404, 'domain_not_found', `Project ${ref} has no claim on ${domain} (or its claim expired: claim it again)`),
  domainUnverified: (domain: string, reasons: string[]) =>
    new BasaltError(400, 'domain_unverified', `Domain ${domain} is still pending: ${reasons.join('; ')}`, { details: { reasons } }),
  apiKeyNotFound: (id: string) => new BasaltError(404, 'api_key_not_found', `API key ${id} not found`),
  signingKeyNotFound: (id: string) => new BasaltError(404, 'signing_key_not_found', `Signing key ${id} not found`),
  backupNotFound: (id: string) => new BasaltError(404, 'backup_not_found', `Backup ${id} not found`),
  restoreNotFound: (id: string) => new BasaltError(404, 'restore_not_found', `Restore ${id} not found`),
  backupBusy: (ref: string) =>
    new BasaltError(409, 'backup_in_progress', `Project ${ref} has a backup or restore under way; try again when it has finished`),
  backupNotReady: (id: string, status: string) => new BasaltError(409, 'backup_not_ready', `Backup ${id} is ${status}: only a done backup can be restored`),
  backupsStopping: () => new BasaltError(503, 'unavailable', 'This platform replica is shutting down; try again'),
  planNotFound: (name: string) => new BasaltError(404, 'plan_not_found', `Plan ${name} not found`),
  planInUse: (name: string, why: string) => new BasaltError(409, 'plan_in_use', `Plan ${name} cannot be deleted: ${why}`),
  /** a project's owner (a token scoped to it) must not move it to another plan: plans are the operator's */
  planChangeForbidden: (ref: string) =>
    new BasaltError(403, 'forbidden', `Changing the plan of project ${ref} needs an operator token (one not scoped to projects)`),
  clusterNotFound: (id: string) => new BasaltError(404, 'cluster_not_found', `Cluster ${id} is not registered`),
  clusterInUse: (id: string) => new BasaltError(409, 'cluster_in_use', `Cluster ${id} still holds projects: move or delete them first`),
  clusterUnreachable: (what: string, why: string) => new BasaltError(400, 'cluster_unreachable', `${what} cannot be used: ${why}`),
  sameCluster: (from: string, to: string) => new BasaltError(400, 'same_cluster', `Clusters ${from} and ${to} are the same Postgres server`),
  moveInProgress: (ref: string) => new BasaltError(409, 'move_in_progress', `Project ${ref} is already being moved`),
  moveFailed: (ref: string, why: string) => new BasaltError(502, 'move_failed', `Moving project ${ref} failed and was undone: ${why}`),
  validation: (message: string, details?: unknown) => new BasaltError(400, 'validation_failed', message, { details }),
  /** a request that failed its zod schema: each issue as `path.to.key: what is wrong`, the issues as details */
  invalidRequest: (message: string, issues: unknown) =>
    new BasaltError(400, 'validation_failed', Array.isArray(issues) && issues.length ? issues.map(describeIssue).join('; ') : message, { details: issues }),
};

// `settings.auth: Unrecognized key(s) in object: 'x'` and `settings.rate_limit_rps: Expected number, received string`
// name the key; the request part (body, querystring) is left out as it always was.
function describeIssue(i: { path?: (string | number)[]; message?: string }): string {
  return `${i.path?.join('.') || 'body'}: ${i.message}`;
}
