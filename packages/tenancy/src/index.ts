// Which project a request is for, and who is calling it.
export { ProjectRegistry, PROJECT_CHANNEL, type Project, type RegistryOptions } from './registry.js';
export { authenticate, requestToken, AuthError, REQUEST_ROLES, type Principal, type RequestRole } from './authenticate.js';
export { verifyPlatformToken, canAccessProject, PLATFORM_TOKEN_PREFIX, type PlatformPrincipal } from './platform-tokens.js';
export { connectControlPlane, pingControlPlane, type ControlPlane, type ControlPlaneOptions } from './control-plane.js';
export { requireProjectOwner, type OwnerErrors } from './project-owner.js';
