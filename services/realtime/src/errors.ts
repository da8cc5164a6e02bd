// Every error the realtime service returns. Socket refusals and channel errors use Supabase Realtime's
// messages (realtime-js shows them to developers); REST errors render as {error, message}.
import { BasaltError } from '@basalt/errors';

export const rtErrors = {
  // upgrade refusals (HTTP JSON {"error": …} before the switch to WebSocket)
  apiKeyMissing: () => new BasaltError(401, 'unauthorized', 'API key is missing'),
  tokenExpired: () => new BasaltError(401, 'unauthorized', 'Token has expired'),
  notJwt: () => new BasaltError(401, 'unauthorized', 'The token provided is not a valid JWT'),
  badSignature: () => new BasaltError(401, 'unauthorized', 'Failed to validate JWT signature'),
  roleAndExp: () => new BasaltError(401, 'unauthorized', 'Fields `role` and `exp` are required in JWT'),
  tenantNotFound: () => new BasaltError(404, 'tenant_not_found', 'Tenant not found'),
  /** `quota`: the plan's realtime_connections, when it is what refused the socket, named in the message */
  tooManyConnections: (quota: number | null = null) => new BasaltError(429, 'too_many_connections',
    quota === null ? 'Too many connected users' : `Too many connected users: the project's plan allows ${quota} (realtime_connections)`),
  unavailable: () => new BasaltError(500, 'unavailable', 'Error connecting to Realtime'),

  // REST broadcast
  validation: (message: string, details?: unknown) => new BasaltError(400, 'validation_failed', message, { details }),
  payloadTooLarge: (limit: number) => new BasaltError(413, 'payload_too_large', `Payload size exceeded (limit ${limit} bytes)`),
  clientBroadcastOff: () =>
    new BasaltError(403, 'client_broadcast_disabled', 'Client publishing is off for this project (settings.realtime.client_broadcast); use the service_role key'),
  cannotWrite: (topic: string) => new BasaltError(403, 'unauthorized', `You do not have permissions to write to this Channel topic: ${topic}`),
  tooManyMessages: () => new BasaltError(429, 'too_many_messages', 'Too many messages per second'),
  forbidden: () => new BasaltError(403, 'forbidden', "Realtime administration needs the project's service_role key or a platform token with access to it"),
};

/** Channel join / push failures, as `<Code>: <message>` reasons in a phx_reply error. */
export const reasons = {
  noTopic: 'You must provide a topic name',
  topicTooLong: (max: number) => `TopicNameTooLong: Topic names are at most ${max} bytes`,
  joinTooLarge: (max: number) => `InvalidJoinPayload: A join payload is at most ${max} bytes`,
  cannotRead: (topic: string) => `Unauthorized: You do not have permissions to read from this Channel topic: ${topic}`,
  cannotWrite: (topic: string) => `Unauthorized: You do not have permissions to write to this Channel topic: ${topic}`,
  tooManyChannels: 'ChannelRateLimitReached: Too many channels',
  tooManyJoins: 'ClientJoinRateLimitReached: Too many joins per second',
  tokenExpired: (ago: number) => `InvalidJWTToken: Token has expired ${ago} seconds ago`,
  invalidToken: (why: string) => `InvalidJWTToken: ${why}`,
  roleAndExp: 'InvalidJWTToken: Fields `role` and `exp` are required in JWT',
  clientBroadcastOff: 'Unauthorized: Client publishing is off for this project',
  tooManyMessages: 'TooManyMessages: Too many messages per second',
  messageQuota: (quota: number) => `TooManyMessages: Too many messages per second: the project's plan allows ${quota} (realtime_messages_per_second)`,
  tooManyPresence: 'TooManyPresenceMessages: Too many presence messages per second',
  payloadTooLarge: 'payload_size_exceeded',
  presenceNotMap: 'Presence track payload must be a map',
  unmatchedTopic: 'unmatched topic',
  unknownEvent: (event: string) => `UnknownEvent: ${event}`,
  badPostgresChanges: (why: string) => `Error parsing \`filter\` params: ${why}`,
  /** the project's database could not be reached (or did not answer in time) */
  unavailable: 'UnableToConnectToProject: Realtime was unable to connect to the project database',
  /** anything else that failed while handling the message (logged) */
  unknown: 'UnknownErrorOnChannel: Unknown Error on Channel',
};
