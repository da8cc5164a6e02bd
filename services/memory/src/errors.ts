// Every error the memory service returns. mem0 answers DRF-style `{detail}`; we add a stable `code`.
import { BasaltError } from '@basalt/errors';

export const memErrors = {
  missingKey: () => new BasaltError(401, 'missing_api_key',
    'Authentication required: send Authorization: Token <key> with the project\'s service_role key, an AI key (bsk_…) or a user access token'),
  invalidKey: () => new BasaltError(401, 'invalid_api_key', 'Invalid API key'),
  revokedKey: () => new BasaltError(401, 'invalid_api_key', 'This API key has been revoked'),
  wrongProject: () => new BasaltError(401, 'invalid_api_key', 'This API key belongs to another project'),
  roleRefused: (role: string) => new BasaltError(403, 'permission_denied', `A token with role ${role} may not use memory; sign in or use the service_role key`),
  otherUser: () => new BasaltError(403, 'permission_denied', 'A signed-in user may only reach their own memories (user_id must be the token\'s sub)'),
  serviceOnly: (what: string) => new BasaltError(403, 'permission_denied', `${what} needs the project's service_role key or an AI key`),
  projectNotFound: () => new BasaltError(404, 'project_not_found', 'Project not found'),
  memoryNotFound: (id: string) => new BasaltError(404, 'memory_not_found', `Memory ${id} not found`),
  eventNotFound: (id: string) => new BasaltError(404, 'event_not_found', `Event ${id} not found`),
  validation: (message: string, details?: unknown) => new BasaltError(400, 'validation_failed', message, { details }),
  badFilter: (message: string) => new BasaltError(400, 'invalid_filter', message),
  emptyMessages: () => new BasaltError(400, 'empty_messages', 'messages must hold at least one message with text'),
  tooLong: (max: number) => new BasaltError(413, 'content_too_large', `A memory may hold at most ${max} characters`),
  noScope: () => new BasaltError(400, 'missing_scope', 'At least one of user_id, agent_id, app_id or run_id is required'),
  noLlm: () => new BasaltError(400, 'llm_not_configured',
    'infer=true needs a chat model: set settings.memory.llm_model (PATCH /platform/v1/projects/{ref} {"settings":{"memory":{"llm_model":"…"}}}) to a model the project\'s AI routes serve, or send infer=false'),
  /** the plan's memory_count (project.quotas): the project holds as many memories as its plan allows */
  memoryQuota: (quota: number) => new BasaltError(402, 'memory_count',
    `The project holds the ${quota} memories its plan allows (memory_count); delete some or move to a larger plan`),
  resetConfirm: () => new BasaltError(400, 'confirmation_invalid', 'The reset confirmation token is missing, expired or for another project; call reset without one first'),
  model: (status: number, message: string) => new BasaltError(status >= 500 || status === 0 ? 502 : status === 429 ? 429 : 502, 'model_call_failed', `The model call failed: ${message}`),
  modelOutput: (why: string) => new BasaltError(502, 'llm_invalid_output', `The model returned an unusable answer: ${why}`),
};
