// SAML 2.0 single sign-on is not offered: every /sso path (and the admin SSO providers API) answers as GoTrue
// does with GOTRUE_SAML_ENABLED off, so clients (auth-js signInWithSSO) get the code they handle.
//   POST /sso, GET|POST /sso/saml/acs, GET /sso/saml/metadata             404 saml_provider_disabled
//   /admin/sso/providers[/:id] (after the admin check)                      404 saml_provider_disabled
import { defineRoute } from '@basalt/http';
import { authErrors } from '../errors.js';

const disabled = async () => {
  throw authErrors.samlDisabled();
};

export const ssoRoutes = () => [
  defineRoute({ method: 'POST', url: '/sso', handler: disabled }),
  defineRoute({ method: ['GET', 'POST'], url: '/sso/saml/acs', handler: disabled }),
  defineRoute({ method: 'GET', url: '/sso/saml/metadata', handler: disabled }),
];

export const adminSsoRoutes = () => [
  defineRoute({ method: ['GET', 'POST'], url: '/admin/sso/providers', handler: disabled }),
  defineRoute({ method: ['GET', 'PUT', 'DELETE'], url: '/admin/sso/providers/:id', handler: disabled }),
];
