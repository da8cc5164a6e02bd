// Deployment facts per service that the fleet list does not hold: replicas, autoscaling, resources, extra env.
// docker-compose.yml and k8s/ are generated from this and @basalt/fleet's SERVICES (npm run gen:deploy),
// and tests/deploy-files.test.ts fails when the committed files drift from the code.

export const IMAGE = 'ghcr.io/basalt-dev/basalt:0.1.0';

export interface DeploySpec {
  replicas: number;
  hpa?: { min: number; max: number; cpu: number };
  cpu: string;
  memory: string;
  /** env for this service beyond the shared ConfigMap/Secret */
  env?: Record<string, string>;
  /** compose-only env (local S3 endpoint etc.) */
  composeEnv?: Record<string, string>;
  /** ports beyond HTTP that clients reach directly (not through the gateway), e.g. the MongoDB wire protocol */
  extraPorts?: { name: string; port: number }[];
}

export const DEPLOY: Record<string, DeploySpec> = {
  gateway: { replicas: 2, hpa: { min: 2, max: 20, cpu: 70 }, cpu: '500m', memory: '256Mi', env: { GATEWAY_WORKERS: '1' } },
  // backups are written to the storage service's object store, so the platform gets the same S3 settings
  platform: {
    replicas: 2, cpu: '250m', memory: '256Mi',
    env: { STORAGE_BACKEND: 's3', S3_ENDPOINT: 'https://s3.example.internal', S3_BUCKET: 'basalt', S3_REGION: 'us-east-1' },
    composeEnv: { S3_ENDPOINT: 'http://minio:9000', S3_BUCKET: 'basalt', S3_ACCESS_KEY: 'basalt', S3_SECRET_KEY: 'basalt-secret', S3_REGION: 'us-east-1' },
  },
  rest: { replicas: 2, hpa: { min: 2, max: 20, cpu: 70 }, cpu: '500m', memory: '512Mi' },
  auth: { replicas: 2, hpa: { min: 2, max: 10, cpu: 70 }, cpu: '500m', memory: '256Mi' },
  storage: {
    replicas: 2, hpa: { min: 2, max: 10, cpu: 70 }, cpu: '500m', memory: '256Mi',
    // S3_ACCESS_KEY and S3_SECRET_KEY come from the basalt-secrets Secret
    env: { STORAGE_BACKEND: 's3', S3_ENDPOINT: 'https://s3.example.internal', S3_BUCKET: 'basalt', S3_REGION: 'us-east-1' },
    composeEnv: { S3_ENDPOINT: 'http://minio:9000', S3_BUCKET: 'basalt', S3_ACCESS_KEY: 'basalt', S3_SECRET_KEY: 'basalt-secret', S3_REGION: 'us-east-1' },
  },
  // what fits the pod: about 1.2 MB per loaded isolate, two workerd processes
  functions: { replicas: 2, hpa: { min: 2, max: 20, cpu: 70 }, cpu: '1000m', memory: '2Gi', env: { FUNCTIONS_MAX_ISOLATES: '400' } },
  'ai-gateway': { replicas: 2, hpa: { min: 2, max: 10, cpu: 70 }, cpu: '250m', memory: '256Mi' },
  memory: { replicas: 2, cpu: '250m', memory: '256Mi' },
  realtime: { replicas: 2, hpa: { min: 2, max: 10, cpu: 70 }, cpu: '500m', memory: '512Mi' },
  scheduler: { replicas: 2, cpu: '250m', memory: '256Mi' },
  // the MongoDB wire protocol (mongodb driver, mongosh) listens on its own port, published beside the gateway's
  documents: {
    replicas: 2, hpa: { min: 2, max: 10, cpu: 70 }, cpu: '250m', memory: '256Mi',
    env: { DOCUMENTS_WIRE_PORT: '27017' }, extraPorts: [{ name: 'mongo', port: 27017 }],
  },
};
