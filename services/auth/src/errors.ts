// Every error the auth service returns, in GoTrue's vocabulary (error_code values of auth-js error-codes.ts).
// The x-sb-error-code header lets clients that read only headers see the code too.
import type { EgressError } from '@basalt/egress';
import { BasaltError } from '@basalt/errors';

const gotrue = (status: number, code: string, msg: string, headers: Record<string, string> = {}) =>
  new BasaltError(status, code, msg, { headers: { 'x-sb-error-code': code, ...headers } });

export const authErrors = {
  validation: (msg: string) => gotrue(400, 'validation_failed', msg),
  validation422: (msg: string) => gotrue(422, 'validation_failed', msg),
  badJson: () => gotrue(400, 'bad_json', 'Could not parse request body as JSON'),
  invalidCredentials: () => gotrue(400, 'invalid_credentials', 'Invalid login credentials'),
  unsupportedGrant: () => gotrue(400, 'invalid_credentials', 'unsupported_grant_type'),
  emailNotConfirmed: () => gotrue(400, 'email_not_confirmed', 'Email not confirmed'),
  userBanned: () => gotrue(400, 'user_banned', 'User is banned'),
  userAlreadyExists: () => gotrue(422, 'user_already_exists', 'User already registered'),
  emailExists: () => gotrue(422, 'email_exists', 'A user with this email address has already been registered'),
  phoneExists: () => gotrue(422, 'phone_exists', 'A user with this phone number has already been registered'),
  weakPassword: (msg: string, reasons: string[]) =>
    Object.assign(gotrue(422, 'weak_password', msg), { weakPassword: { reasons, message: msg } }),
  samePassword: () => gotrue(422, 'same_password', 'New password should be different from the old password.'),
  signupDisabled: () => gotrue(422, 'signup_disabled', 'Signups not allowed for this instance'),
  emailProviderDisabled: () => gotrue(422, 'email_provider_disabled', 'Email logins are disabled'),
  phoneNotConfirmed: () => gotrue(400, 'phone_not_confirmed', 'Phone not confirmed'),
  reauthPhoneNotConfirmed: () => gotrue(422, 'phone_not_confirmed', 'Please verify your phone first.'),
  badPhone: () => gotrue(400, 'validation_failed', 'Invalid phone number format (E.164 required)'),
  smsFrequency: (seconds: number) => gotrue(429, 'over_sms_send_rate_limit', `For security purposes, you can only request this after ${seconds} seconds.`, { 'retry-after': String(seconds) }),
  smsSendFailed: (kind: string, why: string) => gotrue(422, 'sms_send_failed', `Error sending ${kind} OTP to provider: ${why}`),
  phoneProviderDisabled: () => gotrue(422, 'phone_provider_disabled', 'Phone signups are disabled'),
  anonymousDisabled: () => gotrue(422, 'anonymous_provider_disabled', 'Anonymous sign-ins are disabled'),
  otpDisabled: () => gotrue(422, 'otp_disabled', 'Signups not allowed for otp'),
  otpExpired: () => gotrue(403, 'otp_expired', 'Token has expired or is invalid'),
  noAuthorization: () => gotrue(401, 'no_authorization', 'This endpoint requires a valid Bearer token'),
  badJwt: (why: string) => gotrue(403, 'bad_jwt', `invalid JWT: unable to parse or verify signature, ${why}`),
  missingSub: () => gotrue(403, 'bad_jwt', 'invalid claim: missing sub claim'),
  notAdmin: () => gotrue(403, 'not_admin', 'User not allowed'),
  userNotFound: () => gotrue(404, 'user_not_found', 'User not found'),
  sessionNotFound: () => gotrue(403, 'session_not_found', 'Session from session_id claim in JWT does not exist'),
  refreshNotFound: () => gotrue(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found'),
  refreshAlreadyUsed: () => gotrue(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used'),
  refreshInvalid: () => gotrue(400, 'validation_failed', 'Refresh token is not valid'),
  tooManyConcurrentRefreshes: () => gotrue(409, 'conflict', 'Too many concurrent token refresh requests on the same session or refresh token'),
  badScope: () => gotrue(400, 'validation_failed', 'Unsupported logout scope'),
  /** a write refused because the platform made the project's database read-only over `quota` (the code, as functions' quotas) */
  readOnly: (quota: string, msg: string) => gotrue(405, quota, msg),
  rateLimited: () => gotrue(429, 'over_request_rate_limit', 'Request rate limit reached', { 'retry-after': '60' }),
  emailRateLimited: () => gotrue(429, 'over_email_send_rate_limit', 'Email rate limit exceeded', { 'retry-after': '60' }),
  reauthNeeded: () => gotrue(400, 'reauthentication_needed', 'Password update requires reauthentication'),
  reauthInvalid: () => gotrue(400, 'reauthentication_not_valid', 'Requires a valid reauthentication nonce'),
  flowStateNotFound: () => gotrue(404, 'flow_state_not_found', 'invalid flow state, no valid flow state found'),
  flowStateExpired: () => gotrue(422, 'flow_state_expired', 'invalid flow state, flow state has expired'),
  badCodeVerifier: () => gotrue(400, 'bad_code_verifier', 'code challenge does not match previously saved code verifier'),
  badOAuthState: () => gotrue(400, 'bad_oauth_state', 'OAuth state parameter is invalid'),
  badOAuthCallback: (msg: string) => gotrue(400, 'bad_oauth_callback', msg),
  /** an ID token of a provider the project has not enabled (GoTrue's id_token grant) */
  idTokenProviderDisabled: (issuer: string) => gotrue(400, 'provider_disabled', `Provider (issuer "${issuer}") is not enabled`),
  samlDisabled: () => gotrue(404, 'saml_provider_disabled', 'SAML 2.0 is disabled'),
  web3Disabled: () => gotrue(422, 'web3_provider_disabled', 'Web3 provider is disabled'),
  reauthNoContact: () => gotrue(400, 'validation_failed', 'Reauthentication requires the user to have an email or a phone number'),
  reauthEmailNotConfirmed: () => gotrue(422, 'email_not_confirmed', 'Please verify your email first.'),
  providerDisabled: (p: string) => gotrue(400, 'validation_failed', `Unsupported provider: provider ${p} is not enabled`),
  providerFailed: (msg: string) => gotrue(502, 'unexpected_failure', msg),
  /** the project's SMTP host or provider endpoint is a destination the egress policy refuses */
  egressBlocked: (what: string, e: EgressError) => gotrue(403, 'egress_blocked', `${what}: ${e.message}`),
  insufficientAal: () => gotrue(403, 'insufficient_aal', 'AAL2 session is required to update email or password when MFA is enabled.'),
  mfaFactorNotFound: () => gotrue(404, 'mfa_factor_not_found', 'Factor not found'),
  mfaChallengeNotFound: () => gotrue(404, 'mfa_challenge_expired', 'Challenge not found'),
  mfaChallengeExpired: () => gotrue(422, 'mfa_challenge_expired', 'MFA challenge has expired, verify against another challenge or create a new challenge.'),
  mfaVerificationFailed: () => gotrue(422, 'mfa_verification_failed', 'Invalid TOTP code entered'),
  mfaTooManyFactors: () => gotrue(422, 'too_many_enrolled_mfa_factors', 'Maximum number of verified factors reached, unenroll to continue'),
  mfaNameConflict: () => gotrue(422, 'mfa_factor_name_conflict', 'A factor with the friendly name already exists'),
  badIdToken: (why: string) => gotrue(400, 'validation_failed', `Bad ID token: ${why}`),
  identityExists: () => gotrue(422, 'identity_already_exists', 'Identity is already linked to another user'),
  identityNotFound: () => gotrue(404, 'identity_not_found', 'Identity doesn\'t exist'),
  singleIdentity: () => gotrue(422, 'single_identity_not_deletable', 'User must have at least 1 identity after unlinking'),
  manualLinkingDisabled: () => gotrue(404, 'manual_linking_disabled', 'Manual linking is disabled'),
  forbiddenProject: (ref: string) => new BasaltError(403, 'forbidden', `This token has no access to project ${ref}`),
  platformUnauthorized: () => new BasaltError(401, 'unauthorized', 'A valid platform token (Authorization: Bearer bsp_…) is required'),
  projectNotFound: () => gotrue(404, 'not_found', 'Project not found'),
};

export type WithWeakPassword = BasaltError & { weakPassword?: { reasons: string[]; message: string } };
