// A project's auth settings: project.settings.auth (merged by PATCH /platform/v1/projects/<ref>), with defaults.
// Parsed once per Project object: the registry replaces the object when settings change.
import { z } from 'zod';
import type { Project } from '@basalt/tenancy';

const Provider = z.object({
  enabled: z.boolean().default(true),
  client_id: z.string(),
  secret: z.string(),
  /** overrides of the provider's endpoints (tests point them at a local fake) */
  authorize_url: z.string().url().optional(),
  token_url: z.string().url().optional(),
  user_url: z.string().url().optional(),
  emails_url: z.string().url().optional(),
  /** signing keys of ID tokens (grant_type=id_token) */
  jwks_url: z.string().url().optional(),
});
export type ProviderSettings = z.infer<typeof Provider>;

const Limit = z.object({ per_ip: z.number().int().min(1), per_email: z.number().int().min(1), window_seconds: z.number().int().min(1) });
export type LimitSettings = z.infer<typeof Limit>;
const limit = (perIp: number, perEmail: number, windowSeconds = 300) => Limit.default({ per_ip: perIp, per_email: perEmail, window_seconds: windowSeconds });

const Template = z.object({ subject: z.string().max(500), body: z.string().max(100_000) });

/** settings.auth.sms: the SMS provider (GoTrue's SMS_PROVIDER and its keys); api_base_url points at a compatible gateway. */
const base = { api_base_url: z.string().url().optional() };
const Sms = z.object({
  provider: z.enum(['twilio', 'messagebird', 'vonage', 'textlocal']),
  twilio: z.object({ account_sid: z.string(), auth_token: z.string(), message_service_sid: z.string(), ...base }).optional(),
  messagebird: z.object({ access_key: z.string(), originator: z.string(), ...base }).optional(),
  vonage: z.object({ api_key: z.string(), api_secret: z.string(), from: z.string(), ...base }).optional(),
  textlocal: z.object({ api_key: z.string(), sender: z.string(), ...base }).optional(),
  /** GoTrue's SMS_TEMPLATE: `{{ .Code }}` is the code */
  template: z.string().max(1000).default('Your code is {{ .Code }}'),
});
export type SmsSettings = z.infer<typeof Sms>;

export const AuthSettings = z.object({
  site_url: z.string().url().optional(),
  uri_allow_list: z.array(z.string()).default([]),
  disable_signup: z.boolean().default(false),
  /** false = users are confirmed at sign-up (GoTrue MAILER_AUTOCONFIRM) */
  email_confirm_required: z.boolean().default(false),
  email_enabled: z.boolean().default(true),
  anonymous_users: z.boolean().default(false),
  /** GET /user/identities/authorize and DELETE /user/identities/:id (GOTRUE_SECURITY_MANUAL_LINKING_ENABLED) */
  manual_linking_enabled: z.boolean().default(false),
  password_min_length: z.number().int().min(6).max(72).default(6),
  password_required_characters: z.enum(['', 'letters_digits', 'lower_upper_letters_digits', 'lower_upper_letters_digits_symbols']).default(''),
  update_password_require_reauthentication: z.boolean().default(false),
  jwt_exp: z.number().int().min(30).max(604_800).default(3600),
  refresh_token_reuse_interval: z.number().int().min(0).max(3600).default(10),
  otp_exp: z.number().int().min(60).max(86_400).default(3600),
  otp_length: z.number().int().min(6).max(10).default(6),
  mfa_max_enrolled_factors: z.number().int().min(1).max(100).default(10),
  /** phone sign-up and sign-in (GoTrue EXTERNAL_PHONE_ENABLED) */
  phone_enabled: z.boolean().default(false),
  /** false = numbers are confirmed at sign-up (GoTrue SMS_AUTOCONFIRM) */
  phone_confirm_required: z.boolean().default(true),
  /** without a provider, texts go to the dev outbox */
  sms: Sms.optional(),
  sms_otp_exp: z.number().int().min(30).max(86_400).default(60),
  sms_otp_length: z.number().int().min(6).max(10).default(6),
  /** seconds before another code may be sent to the same number (GoTrue SMS_MAX_FREQUENCY) */
  sms_max_frequency: z.number().int().min(0).max(3600).default(60),
  smtp: z
    .object({
      host: z.string(),
      port: z.number().int().default(587),
      user: z.string().optional(),
      pass: z.string().optional(),
      secure: z.boolean().default(false),
      admin_email: z.string().email(),
      sender_name: z.string().optional(),
    })
    .optional(),
  templates: z.record(z.string(), Template).default({}),
  external: z.record(z.string(), Provider).default({}),
  rate_limits: z
    .object({
      signup: limit(60, 30),
      token: limit(300, 60),
      otp: limit(60, 30),
      recover: limit(60, 30),
      verify: limit(120, 60),
      refresh: limit(1800, 1800),
      /** texts sent: per IP and per number */
      sms: limit(30, 10, 3600),
    })
    .default({}),
});
export type AuthSettings = z.infer<typeof AuthSettings>;

const cache = new WeakMap<Project, AuthSettings>();

/** A malformed settings object falls back to defaults for the bad keys rather than taking the project down. */
export function authSettings(project: Project): AuthSettings {
  const hit = cache.get(project);
  if (hit) return hit;
  const raw = (project.settings.auth ?? {}) as Record<string, unknown>;
  let parsed = AuthSettings.safeParse(raw);
  if (!parsed.success) {
    const bad = new Set(parsed.error.issues.map((i) => String(i.path[0])));
    parsed = AuthSettings.safeParse(Object.fromEntries(Object.entries(raw).filter(([k]) => !bad.has(k))));
  }
  const settings = parsed.success ? parsed.data : AuthSettings.parse({});
  cache.set(project, settings);
  return settings;
}
