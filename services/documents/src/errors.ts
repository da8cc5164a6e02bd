// Every error the documents service returns, as named factories. Each carries MongoDB's numeric code and
// codeName in `details`, so the HTTP API renders {error, error_code} and the wire protocol {ok:0, errmsg, code, codeName}.
import { BasaltError } from '@basalt/errors';

const mongo = (status: number, codeName: string, code: number, message: string) =>
  new BasaltError(status, codeName, message, { details: { code, codeName } });

export const docErrors = {
  badValue: (message: string) => mongo(400, 'BadValue', 2, message),
  failedToParse: (message: string) => mongo(400, 'FailedToParse', 9, message),
  invalidRegex: (message: string) => mongo(400, 'Location51091', 51091, `Regular expression is invalid: ${message}`),
  typeMismatch: (message: string) => mongo(400, 'TypeMismatch', 14, message),
  unknownOperator: (op: string, where = 'query') => mongo(400, 'BadValue', 2, `unknown ${where} operator: ${op}`),
  unsupported: (what: string) => mongo(400, 'NotImplemented', 238, `${what} is not supported`),
  javascript: (op: string) => mongo(400, 'BadValue', 2, `${op} (server-side JavaScript) is not allowed`),
  invalidNamespace: (message: string) => mongo(400, 'InvalidNamespace', 73, message),
  immutableField: (path: string) => mongo(400, 'ImmutableField', 66, `Performing an update on the path '${path}' would modify the immutable field '${path}'`),
  conflictingUpdate: (path: string) => mongo(400, 'ConflictingUpdateOperators', 40, `Updating the path '${path}' would create a conflict at '${path}'`),
  duplicateKey: (message: string, keyValue?: unknown) => new BasaltError(409, 'DuplicateKey', message, { details: { code: 11000, codeName: 'DuplicateKey', keyValue } }),
  tooLarge: (bytes: number) => mongo(400, 'BSONObjectTooLarge', 10334, `document is ${bytes} bytes, over the 16 MB (16777216 bytes) limit`),
  tooDeep: (max: number) => mongo(400, 'Overflow', 15, `document or query nests deeper than ${max} levels`),
  pageTooLarge: (limit: number, max: number) => mongo(400, 'BadValue', 2, `limit ${limit} is over the maximum page size of ${max}; page with skip, or use the wire protocol's cursors`),
  namespaceNotFound: (name: string) => mongo(404, 'NamespaceNotFound', 26, `ns not found: ${name}`),
  indexNotFound: (name: string) => mongo(404, 'IndexNotFound', 27, `index not found with name [${name}]`),
  indexConflict: (name: string) => mongo(400, 'IndexKeySpecsConflict', 86, `An index named ${name} already exists with different options`),
  cannotCreateIndex: (message: string) => mongo(400, 'CannotCreateIndex', 67, message),
  /** a write refused because the platform made the project's database read-only over a quota: Atlas's own answer
   *  to a cluster over its space quota is code 8000 AtlasError ("you are over your space quota") */
  overQuota: (message: string) => mongo(405, 'AtlasError', 8000, message),

  // access
  unauthorized: () => new BasaltError(401, 'Unauthorized', 'A valid apikey or bearer token of this project is required', { details: { code: 13, codeName: 'Unauthorized' } }),
  forbidden: () => new BasaltError(403, 'Forbidden', "The documents management API needs the project's service_role key or a platform token with access to it"),
  denied: (action: string, collection: string) => new BasaltError(403, 'Unauthorized', `no rule allows ${action} on collection "${collection}"`, { details: { code: 13, codeName: 'Unauthorized' } }),
  ruleRefused: (action: string, collection: string) => new BasaltError(403, 'Unauthorized', `the ${action} rule of collection "${collection}" refuses this document`, { details: { code: 13, codeName: 'Unauthorized' } }),
  fieldRefused: (action: string, field: string) => new BasaltError(403, 'Unauthorized', `the ${action} rule does not allow writing field "${field}"`, { details: { code: 13, codeName: 'Unauthorized' } }),
  serviceRoleOnly: (action: string) => new BasaltError(403, 'Unauthorized', `${action} needs the service_role key`, { details: { code: 13, codeName: 'Unauthorized' } }),
  projectNotFound: () => new BasaltError(404, 'project_not_found', 'Project not found'),
  unknownAction: (action: string) => new BasaltError(404, 'InvalidParameter', `unknown action "${action}"`),
  invalidRule: (message: string) => new BasaltError(400, 'invalid_rule', message),
  validation: (message: string, details?: unknown) => new BasaltError(400, 'InvalidParameter', message, { details }),
};

/** MongoDB's code and codeName of an error (for the wire protocol), with generic fallbacks. */
export function mongoCodeOf(e: BasaltError): { code: number; codeName: string } {
  const d = e.details as { code?: number; codeName?: string } | undefined;
  if (d && typeof d.code === 'number') return { code: d.code, codeName: d.codeName ?? e.code };
  return { code: e.status === 401 || e.status === 403 ? 13 : 2, codeName: e.status === 401 || e.status === 403 ? 'Unauthorized' : 'BadValue' };
}
