// GET /settings: what auth-js and UIs ask to know which sign-in options to show.
import { PROVIDERS } from '../providers/index.js';
import type { AuthSettings } from './settings.js';

export function publicSettings(s: AuthSettings) {
  const external: Record<string, boolean> = { email: s.email_enabled, phone: false, anonymous_users: s.anonymous_users };
  for (const name of ['apple', 'azure', 'bitbucket', 'discord', 'facebook', 'figma', 'gitlab', 'keycloak', 'linkedin', 'notion', 'slack', 'spotify', 'twitch', 'twitter', 'workos', 'zoom']) external[name] = false;
  for (const name of Object.keys(PROVIDERS)) external[name] = Boolean(s.external[name]?.enabled);
  return {
    external,
    disable_signup: s.disable_signup,
    mailer_autoconfirm: !s.email_confirm_required,
    phone_autoconfirm: false,
    sms_provider: '',
    saml_enabled: false,
    saml_private_key_next_configured: false,
    passkeys_enabled: false,
  };
}
