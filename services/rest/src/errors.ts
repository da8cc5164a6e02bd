// Every error the REST service returns, with PostgREST's codes, statuses and message texts.
import { BasaltError, DATABASE_RETRY_AFTER_SECONDS } from '@basalt/errors';

/** A header value carries printable ASCII only: a JWT's message may quote its unverified header (an `alg` with a
 * newline or a non-Latin-1 character), which Node refuses to send, and the 401 then left in Fastify's own shape. */
/** a lost database: the client may try again after this long */
const RETRY = { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) };

const headerText = (s: string) => s.replace(/"/g, "'").replace(/[^\x20-\x7e]/g, '?');

const pgrst = (status: number, code: string, message: string, details: string | null = null, hint: string | null = null, headers?: Record<string, string>) =>
  new BasaltError(status, code, message, { details, hint, headers });

export const restErrors = {
  projectNotFound: () => pgrst(404, 'PGRST125', 'Invalid path specified in request URL'),
  jwtInvalid: (why: string) => pgrst(401, 'PGRST301', why, null, null, { 'www-authenticate': `Bearer error="invalid_token", error_description="${headerText(why)}"` }),
  jwtExpired: () => pgrst(401, 'PGRST303', 'JWT expired', null, null, { 'www-authenticate': 'Bearer error="invalid_token", error_description="JWT expired"' }),
  anonDisabled: () => pgrst(401, 'PGRST302', 'Anonymous access is disabled', null, null, { 'www-authenticate': 'Bearer' }),
  parse: (message: string, details: string | null = null) => pgrst(400, 'PGRST100', message, details),
  badBody: (message: string) => pgrst(400, 'PGRST102', message),
  rangeNotSatisfiable: (offset: bigint, total: number) =>
    pgrst(416, 'PGRST103', 'Requested range not satisfiable', `An offset of ${offset} was requested, but there are only ${total} rows.`),
  negativeLimit: () => pgrst(416, 'PGRST103', 'Requested range not satisfiable', 'Limit should be greater than or equal to zero.'),
  rangeInverted: () =>
    pgrst(416, 'PGRST103', 'Requested range not satisfiable', 'The lower boundary must be lower than or equal to the upper boundary in the Range header.'),
  /** PostgREST binds limit and offset as bigint and a JSON path index as int; Postgres answers a number they cannot
   * hold with this (its int8in/int4in text). We answer it before any SQL is built. */
  outOfRange: (value: string, type: 'bigint' | 'integer') => pgrst(400, '22003', `value "${value}" is out of range for type ${type}`),
  invalidSchema: (s: string, exposed: string[]) => pgrst(406, 'PGRST106', `Invalid schema: ${s}`, null, `Only the following schemas are exposed: ${exposed.join(', ')}`),
  mediaType: (accept: string) => pgrst(406, 'PGRST107', `None of these media types are available: ${accept}`),
  notEmbedded: (name: string) => pgrst(400, 'PGRST108', `'${name}' is not an embedded resource in this request`, null, `Verify that '${name}' is included in the 'select' query parameter.`),
  singular: (n: number) => pgrst(406, 'PGRST116', 'Cannot coerce the result to a single JSON object', `The result contains ${n} rows`),
  methodNotAllowed: (m: string) => pgrst(405, 'PGRST117', `Unsupported HTTP method: ${m}`),
  rpcMethod: (m: string) => pgrst(405, 'PGRST101', `Cannot use the ${m} method on RPC`),
  orderToMany: (origin: string, rel: string) => pgrst(400, 'PGRST118', `A related order on '${rel}' is not possible`, `'${origin}' and '${rel}' do not form a many-to-one or one-to-one relationship`),
  embedFilter: (rel: string) => pgrst(400, 'PGRST120', `Bad operator on the '${rel}' embedded resource`, 'Only is null or not is null filters are allowed on embedded resources'),
  /** the same embed name twice at one level: Postgres refuses PostgREST's two joins of the same alias */
  duplicateEmbed: (alias: string) => pgrst(400, '42712', `table name "${alias}" specified more than once`),
  maxAffected: (n: number) => pgrst(400, 'PGRST124', 'Query result exceeds max-affected preference constraint', `The query affects ${n} rows`),
  strictPrefs: (bad: string[]) => pgrst(400, 'PGRST122', 'Invalid preferences given with handling=strict', `Invalid preferences: ${bad.join(', ')}`),
  noRelationship: (a: string, b: string, schema: string, hint: string | null = null) =>
    pgrst(400, 'PGRST200', `Could not find a relationship between '${a}' and '${b}' in the schema cache`, `Searched for a foreign key relationship between '${a}' and '${b}${hint ? `' using the hint '${hint}` : ''}' in the schema '${schema}', but no matches were found.`),
  ambiguous: (a: string, b: string, details: unknown, hint: string) =>
    new BasaltError(300, 'PGRST201', `Could not embed because more than one relationship was found for '${a}' and '${b}'`, { details, hint }),
  noFunction: (schema: string, fn: string, args: string[]) =>
    pgrst(404, 'PGRST202', `Could not find the function ${schema}.${fn}(${args.join(', ')}) in the schema cache`, `Searched for the function ${schema}.${fn}${args.length ? ` with parameters ${args.join(', ')}` : ' without parameters'}, but no matches were found in the schema cache.`),
  noColumn: (col: string, table: string) => pgrst(400, 'PGRST204', `Could not find the '${col}' column of '${table}' in the schema cache`),
  noTable: (schema: string, table: string) => pgrst(404, 'PGRST205', `Could not find the table '${schema}.${table}' in the schema cache`),
  schemaCacheUnavailable: () => pgrst(503, 'PGRST002', 'Could not query the database for the schema cache. Retrying.', null, null, RETRY),
  /** PostgREST's answer when its connection to the database is lost (silent, refused, dropped, shutting down) */
  connectionLost: (details: string) => pgrst(503, 'PGRST001', 'Database client error. Retrying the connection.', details, null, RETRY),
  tooCostly: (message: string) => pgrst(400, 'PGRST100', message, null, 'Narrow the request: fewer embeds, fewer filters or a limit'),
  notImplemented: (what: string) => pgrst(400, 'PGRST127', 'Feature not implemented', what),
  aggregatesDisabled: () => pgrst(400, 'PGRST123', 'Use of aggregate functions is not allowed'),
  putPaging: () => pgrst(400, 'PGRST114', 'limit/offset querystring parameters are not allowed for PUT'),
  putFilters: () => pgrst(405, 'PGRST105', "Filters must include all and only primary key columns with 'eq' operators"),
  putMismatch: () => pgrst(400, 'PGRST115', 'Payload values do not match URL in primary key column(s)'),
  ambiguousFunction: (candidates: string) => pgrst(300, 'PGRST203', `Could not choose the best candidate function between: ${candidates}`, null, 'Try renaming the parameters or the function itself in the database so function overloading can be resolved'),
  noSuchColumn: (table: string, col: string) => pgrst(400, '42703', `column ${table}.${col} does not exist`),
  upsertNoKey: () => pgrst(400, 'PGRST100', 'on_conflict requires a unique or primary key'),
  /** pg-safeupdate's refusal, which Supabase loads for every API request, as PostgREST reports it */
  requiresWhere: (statement: 'UPDATE' | 'DELETE') => pgrst(400, '21000', `${statement} requires a WHERE clause`),
};
