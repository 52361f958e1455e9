import { isAbsolute } from 'node:path'
import { storageConfigFromEnv, type StorageConfig } from '@litecell/replica'
import { WorkerError } from './worker-error.js'

/** Idle time after which a worker hibernates its tenant. */
export const DEFAULT_IDLE_MS = 30_000
/** Lease time to live; heartbeats renew it well before. */
export const DEFAULT_LEASE_TTL_MS = 10_000
/** The worker fences itself this long before its lease would run out. */
export const DEFAULT_FENCE_MARGIN_MS = 4_000
/** Litestream sync interval while the worker runs. */
export const DEFAULT_SYNC_INTERVAL_MS = 1_000

const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/

/** Everything a worker process is started with. Secrets come through the environment. */
export interface WorkerConfig {
  readonly tenantId: string
  readonly epoch: number
  readonly workerSecret: string
  readonly controlUrl: string
  /** The tenant's own folder: `tenant.db` and its WAL live here. */
  readonly tenantDir: string
  /** Absolute path of the app module whose default export defines the workflows. */
  readonly appPath: string
  /** The app's name in the control plane's catalog (`LITECELL_APP_NAME`), recorded in the tenant's file. */
  readonly appName: string
  /**
   * The app the tenant's file may still record (`LITECELL_APP_UPGRADE_FROM`): set by an
   * explicit `tenants upgrade` until a worker of the new app opened the file.
   */
  readonly upgradeFrom: string | undefined
  readonly storage: StorageConfig
  /** Address the tenant API listens on (loopback unless the worker runs in a pod). */
  readonly host: string
  /** Port the tenant API listens on; 0 picks a free one. */
  readonly port: number
  /** Host the control plane reaches the worker at (a pod's IP); defaults to `host`. */
  readonly advertiseHost: string
  readonly idleMs: number
  readonly leaseTtlMs: number
  readonly fenceMarginMs: number
  readonly syncIntervalMs: number
  readonly concurrency: number | undefined
  /** Longest a tenant query may run (`LITECELL_QUERY_TIMEOUT_MS`); the engine's default if unset. */
  readonly queryTimeoutMs: number | undefined
}

/** Reads and validates the worker's configuration from its environment. */
export function workerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const tenantId = required(env, 'LITECELL_TENANT_ID')
  if (!TENANT_ID.test(tenantId)) {
    throw new WorkerError('INVALID_CONFIG', `Expected LITECELL_TENANT_ID to be a slug, got \`${tenantId}\``)
  }
  const storage = storageConfigFromEnv(env)
  if (storage === null) {
    throw new WorkerError('INVALID_CONFIG', 'no storage configured: set LITECELL_S3_BUCKET (and LITECELL_S3_ENDPOINT)')
  }
  const tenantDir = required(env, 'LITECELL_TENANT_DIR')
  const appPath = required(env, 'LITECELL_APP')
  for (const [name, path] of [['LITECELL_TENANT_DIR', tenantDir], ['LITECELL_APP', appPath]] as const) {
    if (!isAbsolute(path)) throw new WorkerError('INVALID_CONFIG', `Expected ${name} to be an absolute path, got \`${path}\``)
  }
  const leaseTtlMs = integer(env, 'LITECELL_LEASE_TTL_MS', DEFAULT_LEASE_TTL_MS)
  return {
    tenantId,
    epoch: integer(env, 'LITECELL_EPOCH', undefined),
    workerSecret: required(env, 'LITECELL_WORKER_SECRET'),
    controlUrl: required(env, 'LITECELL_CONTROL_URL'),
    tenantDir,
    appPath,
    appName: env.LITECELL_APP_NAME || 'default',
    upgradeFrom: env.LITECELL_APP_UPGRADE_FROM || undefined,
    storage,
    host: env.LITECELL_WORKER_HOST || '127.0.0.1',
    port: integer(env, 'LITECELL_WORKER_PORT', 0),
    advertiseHost: env.LITECELL_WORKER_ADVERTISE_HOST || env.LITECELL_WORKER_HOST || '127.0.0.1',
    idleMs: integer(env, 'LITECELL_IDLE_MS', DEFAULT_IDLE_MS),
    leaseTtlMs,
    fenceMarginMs: integer(env, 'LITECELL_FENCE_MARGIN_MS', Math.min(DEFAULT_FENCE_MARGIN_MS, Math.floor(leaseTtlMs / 2))),
    syncIntervalMs: integer(env, 'LITECELL_SYNC_INTERVAL_MS', DEFAULT_SYNC_INTERVAL_MS),
    concurrency: env.LITECELL_CONCURRENCY ? integer(env, 'LITECELL_CONCURRENCY', undefined) : undefined,
    queryTimeoutMs: env.LITECELL_QUERY_TIMEOUT_MS ? positive(env, 'LITECELL_QUERY_TIMEOUT_MS') : undefined,
  }
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]
  if (!value) throw new WorkerError('INVALID_CONFIG', `missing environment variable ${name}`)
  return value
}

function positive(env: NodeJS.ProcessEnv, name: string): number {
  const value = integer(env, name, undefined)
  if (value < 1) throw new WorkerError('INVALID_CONFIG', `Expected ${name} to be an integer from 1 and up, got \`${value}\``)
  return value
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number | undefined): number {
  const raw = env[name]
  if (raw === undefined || raw === '') {
    if (fallback === undefined) throw new WorkerError('INVALID_CONFIG', `missing environment variable ${name}`)
    return fallback
  }
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0) {
    throw new WorkerError('INVALID_CONFIG', `Expected ${name} to be a non-negative integer, got \`${raw}\``)
  }
  return value
}
