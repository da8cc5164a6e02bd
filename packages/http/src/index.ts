// HTTP basics every service uses.
export { createServiceApp, requestContext, type ServiceApp, type ServiceAppOptions } from './app.js';
export { errorMiddleware, errorShapes, type ErrorShape } from './errors.js';
export { createLogger, type Logger } from './logger.js';
export { createMetrics, type Metrics } from './metrics.js';
export { serve, type ServeOptions } from './serve.js';
export { asyncRoute } from './async-route.js';
export { projectBaseUrl } from './base-url.js';
