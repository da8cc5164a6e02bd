// @basalt/egress: one policy for every outbound request made on a tenant's behalf (function fetches, OAuth and
// OIDC endpoints, SMTP). Public addresses only, unless the operator allows more with BASALT_EGRESS_ALLOW.
export { isBlockedAddress } from './address.js';
export { EgressError, egressPolicy, resolveAllowed, type EgressPolicy, type Resolved } from './policy.js';
export { egressFetch, egressRequest, type EgressInit, type EgressResponse } from './fetch.js';
