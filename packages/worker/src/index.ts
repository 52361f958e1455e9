import { fileURLToPath } from 'node:url'

/** Absolute path of the worker process entry point, for launchers. */
export const WORKER_ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url))

/**
 * Node arguments that run the worker entry point: the TypeScript loader is resolved from this
 * package, so a launcher works from any current directory.
 */
export const WORKER_NODE_ARGS: readonly string[] = ['--import', import.meta.resolve('tsx'), WORKER_ENTRY]

export { createTenantApi, WORKER_SECRET_HEADER, MAX_WAIT_MS } from './tenant-api.js'
export type { TenantApiOptions } from './tenant-api.js'
export { errorResponse, errorCode, statusForCode } from './http-error.js'
export type { ErrorBody } from './http-error.js'
export { readJsonObject, requireString, optionalString, optionalInteger, describe } from './request-body.js'
export type { JsonObject } from './request-body.js'
export { newSecret, hashSecret, matchesHash } from './secret.js'
export { WorkerError } from './worker-error.js'
export type { WorkerErrorCode } from './worker-error.js'
export {
  TENANT_DB_FILE,
  EXIT_HIBERNATED,
  EXIT_FAILED,
  EXIT_LEASE_LOST,
  EXIT_STORAGE_UNAVAILABLE,
  EXIT_APP_REFUSED,
} from './tenant-worker.js'
export {
  DEFAULT_IDLE_MS,
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_FENCE_MARGIN_MS,
  DEFAULT_SYNC_INTERVAL_MS,
} from './worker-config.js'
export type { WorkerAssignment } from './standby.js'
export type { MetricsDelta } from './worker-metrics.js'
