// Which project a request is for, and who is calling it.
export { ProjectRegistry, PROJECT_CHANNEL, type Project, type RegistryOptions } from './registry.js';
export { QUOTA_NAMES, UNLIMITED, quotasFrom, capped, readOnlyOverQuota, type QuotaName, type Quotas } from './quotas.js';
export { authenticate, authenticateIn, requestToken, verifiedClaims, AuthError, REQUEST_ROLES, type Principal, type RequestRole } from './authenticate.js';
export { verifyPlatformToken, canAccessProject, PLATFORM_TOKEN_PREFIX, type PlatformPrincipal } from './platform-tokens.js';
export { connectControlPlane, pingControlPlane, type ControlPlane, type ControlPlaneOptions, type SleepHandler } from './control-plane.js';
export { ProjectActivity, wakeProject, activityKey, sleepReportKey, SLEEP_CHANNEL } from './sleep.js';
export { authorizeProjectOwner, type OwnerErrors } from './project-owner.js';
export { checkMasterKey, masterKeyMismatchMessage, MasterKeyMismatch, projectDatabases, type MasterKeyCheck } from './master-key.js';
