// HTTP basics every service uses.
export { errorShapes } from './errors.js';
export { createLogger, type Logger } from './logger.js';
export { createMetrics, createRegistry, FastHistogram, type Metrics, type Series } from './metrics.js';
export { onParentGone, serve, type ServeOptions } from './serve.js';
export { projectBaseUrl } from './base-url.js';
export { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-body.js';
export { arrivedAt, createService, type App, type Service, type ServiceOptions, type WireShape } from './service.js';
export { type FastRoute } from './fast-routes.js';
export { closeAfterAnswer } from './lingering-close.js';
export { defineRoute, registerRoutes, type RouteDef, type RouteRequest, type RouteSchema } from './routes.js';
export { parseJson, useJsonBodies, useFormBodies, invalidJson, type JsonOptions } from './body-parsers.js';
export { ValidationFailed, zodValidator, type ZodTypeProvider } from './zod-provider.js';
export { assetsChangedChannel, notModified, SHARED_CACHE_HEADER } from './shared-cache.js';
export { newRequestId, requestIdOf } from './request-id.js';
