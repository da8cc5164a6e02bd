// The one schema of a project's settings (PATCH /platform/v1/projects/{ref} {settings}): every key a service
// reads, with its type. Objects are strict, so a misspelt or unknown key is a 400 naming it instead of a value
// stored and silently ignored. No defaults here: what is stored is what was sent; each reader keeps its own.
// Secret-named fields (smtp.pass, external.*.secret) are sealed on write and redacted on read by the domain.
import { z } from 'zod';

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const url = z.string().url().max(2048);

/** auth.rate_limits.<bucket>: requests per IP and per email in a window (services/auth/src/domain/rate-limit.ts). */
const count = z.number().int().min(1);
const Limit = z.object({ per_ip: count, per_email: count, window_seconds: count }).strict();

/** auth.external.<provider>: an OAuth client; the endpoint overrides point tests at a local fake. */
const Provider = z
  .object({
    enabled: z.boolean().optional(),
    client_id: z.string().min(1).max(1024),
    secret: z.string().max(4096),
    authorize_url: url.optional(),
    token_url: url.optional(),
    user_url: url.optional(),
    emails_url: url.optional(),
    /** signing keys of ID tokens (grant_type=id_token) */
    jwks_url: url.optional(),
  })
  .strict();

/**
 * functions.target: where the project's functions run (services/functions/src/remote/target.ts). `local` (the
 * default) is the service's own workerd processes; `cloudflare` uploads each function to a Workers for Platforms
 * dispatch namespace and sends invocations to the operator's dispatch Worker. api_token is sealed (a secret field
 * name); api_url overrides https://api.cloudflare.com/client/v4 (a compatible stand-in).
 */
const FunctionsTarget = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local') }).strict(),
  z
    .object({
      kind: z.literal('cloudflare'),
      account_id: z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'a Cloudflare account id'),
      namespace: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a dispatch namespace name'),
      api_token: z.string().min(1).max(4096),
      dispatch_url: url,
      api_url: url.optional(),
    })
    .strict(),
]);

const Template = z.object({ subject: z.string().max(500), body: z.string().max(100_000) }).strict();

/** auth.sms: an SMS provider as GoTrue has them; api_base_url points at a compatible gateway. */
const smsKey = z.string().min(1).max(4096);
const Sms = z
  .object({
    provider: z.enum(['twilio', 'messagebird', 'vonage', 'textlocal']),
    twilio: z.object({ account_sid: smsKey, auth_token: smsKey, message_service_sid: smsKey, api_base_url: url.optional() }).strict().optional(),
    messagebird: z.object({ access_key: smsKey, originator: smsKey, api_base_url: url.optional() }).strict().optional(),
    vonage: z.object({ api_key: smsKey, api_secret: smsKey, from: smsKey, api_base_url: url.optional() }).strict().optional(),
    textlocal: z.object({ api_key: smsKey, sender: smsKey, api_base_url: url.optional() }).strict().optional(),
    template: z.string().min(1).max(1000).optional(),
  })
  .strict()
  .refine((s) => s[s.provider] !== undefined, (s) => ({ message: `sms.${s.provider} is required when sms.provider is ${s.provider}`, path: [s.provider] }));

/** settings.auth, read by services/auth/src/domain/settings.ts (GoTrue's configuration). */
const Auth = z
  .object({
    site_url: url.optional(),
    uri_allow_list: z.array(z.string().min(1).max(2048)).max(1000).optional(),
    disable_signup: z.boolean().optional(),
    /** false = users are confirmed at sign-up (GoTrue MAILER_AUTOCONFIRM) */
    email_confirm_required: z.boolean().optional(),
    email_enabled: z.boolean().optional(),
    anonymous_users: z.boolean().optional(),
    manual_linking_enabled: z.boolean().optional(),
    password_min_length: int(6, 72).optional(),
    password_required_characters: z.enum(['', 'letters_digits', 'lower_upper_letters_digits', 'lower_upper_letters_digits_symbols']).optional(),
    update_password_require_reauthentication: z.boolean().optional(),
    jwt_exp: int(30, 604_800).optional(),
    refresh_token_reuse_interval: int(0, 3600).optional(),
    otp_exp: int(60, 86_400).optional(),
    otp_length: int(6, 10).optional(),
    mfa_max_enrolled_factors: int(1, 100).optional(),
    phone_enabled: z.boolean().optional(),
    /** false = numbers are confirmed at sign-up (GoTrue SMS_AUTOCONFIRM) */
    phone_confirm_required: z.boolean().optional(),
    sms: Sms.optional(),
    sms_otp_exp: int(30, 86_400).optional(),
    sms_otp_length: int(6, 10).optional(),
    sms_max_frequency: int(0, 3600).optional(),
    smtp: z
      .object({
        host: z.string().min(1).max(253),
        port: int(1, 65_535).optional(),
        user: z.string().max(1024).optional(),
        pass: z.string().max(4096).optional(),
        secure: z.boolean().optional(),
        admin_email: z.string().email(),
        sender_name: z.string().max(256).optional(),
      })
      .strict()
      .optional(),
    /** one per email the auth service sends (services/auth/src/domain/mailer.ts MailType) */
    templates: z
      .object({
        signup: Template, recovery: Template, magiclink: Template, invite: Template, email_change: Template, reauthentication: Template,
      })
      .partial()
      .strict()
      .optional(),
    /** the providers services/auth/src/providers knows */
    external: z.object({ github: Provider, google: Provider }).partial().strict().optional(),
    rate_limits: z
      .object({ signup: Limit, token: Limit, otp: Limit, recover: Limit, verify: Limit, refresh: Limit, sms: Limit })
      .partial()
      .strict()
      .optional(),
  })
  .strict();

export const ProjectSettings = z
  .object({
    /** requests per second the gateway admits for the project (its default: RATE_LIMIT_RPS) */
    rate_limit_rps: int(1, 1_000_000).optional(),
    /** origins that get CORS credentials from the gateway; any other origin gets the default answer */
    cors: z.object({ allowed_origins: z.array(z.string().min(1).max(2048)).max(1000).optional() }).strict().optional(),
    /** schemas the REST API exposes (default: public); pg_catalog and information_schema never are */
    rest: z
      .object({
        schemas: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'not a schema name')).max(100).optional(),
        /** aggregate functions in `select` (PostgREST db-aggregates-enabled; off by default) */
        aggregates_enabled: z.boolean().optional(),
        /** `Accept: application/vnd.pgrst.plan` (PostgREST db-plan-enabled; off by default) */
        plan_enabled: z.boolean().optional(),
        /** PATCH and DELETE need a filter (Supabase's pg-safeupdate; on by default): false lets them reach every row */
        safe_updates: z.boolean().optional(),
      })
      .strict()
      .optional(),
    /** edge-function invocations per second: for the project (rps) and for each function (function_rps); where they run */
    functions: z
      .object({ rps: int(1, 1_000_000).optional(), function_rps: int(1, 1_000_000).optional(), target: FunctionsTarget.optional() })
      .strict()
      .optional(),
    auth: Auth.optional(),
    /** read by services/realtime */
    realtime: z
      .object({
        /** false = clients may only receive broadcasts; the project publishes (REST, SQL, functions) */
        client_broadcast: z.boolean().optional(),
        /** concurrent sockets of the project */
        max_connections: int(1, 1_000_000).optional(),
        /** messages per second a socket may publish, joins per second, presence events per second */
        max_events_per_second: int(1, 1_000_000).optional(),
        max_joins_per_second: int(1, 1_000_000).optional(),
        max_presence_events_per_second: int(1, 1_000_000).optional(),
        max_payload_bytes: int(1, 10_000_000).optional(),
      })
      .strict()
      .optional(),
    /** read by services/memory; the models are resolved through the project's AI routes */
    memory: z
      .object({
        llm_model: z.string().min(1).max(256).optional(),
        embedding_model: z.string().min(1).max(256).optional(),
        /** a chat model that scores search results when a search asks for rerank */
        rerank_model: z.string().min(1).max(256).optional(),
        dimensions: int(8, 4096).optional(),
        /** a Postgres text search configuration: simple, english, … */
        text_search_config: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'not a text search configuration name').optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ProjectSettings = z.infer<typeof ProjectSettings>;
