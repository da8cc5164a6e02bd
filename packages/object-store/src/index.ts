// Where the platform keeps files of its own (project backups) in the object store the storage service uses: the
// same STORAGE_BACKEND settings, the same filesystem layout, one S3 bucket with every file under a key prefix.
export { objectStoreConfig, createObjectStore, type ObjectStoreConfig } from './config.js';
export { objectVersionKey, type ObjectStore } from './types.js';
export { FsObjectStore } from './fs.js';
