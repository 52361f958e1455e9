import { isAbsolute } from 'node:path'
import { ProtocolError } from './protocol-error.js'
import { storageFromEnv, storageToEnv, type StorageSettings } from './storage-env.js'
import { isIncarnation } from './incarnation.js'
import { isTenantId } from './tenant-id.js'

/** Idle time after which a worker hibernates its tenant. */
export const DEFAULT_IDLE_MS = 30_000
/** Lease time to live; heartbeats renew it well before. */
export const DEFAULT_LEASE_TTL_MS = 10_000
/** The worker fences itself this long before its lease would run out (at most half the TTL). */
export const DEFAULT_FENCE_MARGIN_MS = 4_000
/** Litestream sync interval while the worker runs. */
export const DEFAULT_SYNC_INTERVAL_MS = 1_000
/**
 * How long a stop (hibernation, eviction, shutdown) waits for runs to reach a durable point;
 * past it the worker stops waiting (those runs resume on the next wake).
 */
export const DEFAULT_STOP_TIMEOUT_MS = 60_000
/** Budget of a stop's verified final sync (final upload plus the proof by restore). */
export const DEFAULT_SYNC_TIMEOUT_MS = 100_000
/** Where the tenant API listens unless the launcher says otherwise. */
export const DEFAULT_WORKER_HOST = '127.0.0.1'
/** The tenant database's file name inside the worker's `tenantDir`. */
export const TENANT_DB_FILE = 'tenant.db'

/**
 * Where a new tenant's state comes from when its own replica is still empty: another tenant's
 * replica as of `at` (a fork). The worker restores it, then replicates to its own path.
 */
export interface RestoreSource {
  readonly tenantId: string
  /** The source's incarnation (see {@link WorkerSettings.incarnation}); absent: a legacy tenant. */
  readonly incarnation?: string
  /** ISO 8601 time; pinned, so a second first wake restores the very same state. */
  readonly at: string
}

/** What the control plane decides for one worker: its tenant, lease, app, storage and timing. */
export interface WorkerSettings {
  readonly tenantId: string
  /**
   * Which life of the tenant id this is: a tenant deleted and created again under the same id
   * gets a new one. Its replica lives under it (`tenants/<id>/<incarnation>`) and its local
   * folder is marked with it, so a worker never takes up an older life's file. Absent: a
   * tenant created before incarnations (its replica at `tenants/<id>`).
   */
  readonly incarnation?: string
  readonly epoch: number
  /** The per-worker secret: the control plane and the worker prove themselves with it. */
  readonly workerSecret: string
  /** Where the worker calls back (ready, heartbeat, idle, hibernated). */
  readonly controlUrl: string
  /** Absolute path of the app module whose default export defines the workflows. */
  readonly appPath: string
  /** The app's name in the control plane's catalog, recorded in the tenant's file. @default 'default' */
  readonly appName?: string
  /**
   * The app the tenant's file may still record: set by an explicit `tenants upgrade` until a
   * worker of the new app opened the file (its engine then accepts the switch).
   */
  readonly appUpgradeFrom?: string
  readonly storage: StorageSettings
  readonly idleMs: number
  readonly leaseTtlMs: number
  /** @default min(DEFAULT_FENCE_MARGIN_MS, leaseTtlMs / 2) */
  readonly fenceMarginMs?: number
  readonly syncIntervalMs: number
  /** @default DEFAULT_STOP_TIMEOUT_MS */
  readonly stopTimeoutMs?: number
  /** @default DEFAULT_SYNC_TIMEOUT_MS */
  readonly syncTimeoutMs?: number
  /** Runs at once in the engine; absent: the engine's default. */
  readonly concurrency?: number
  /** Longest a tenant query may run, from 1 ms; absent: the engine's default. */
  readonly queryTimeoutMs?: number
  /**
   * Longest a replicated acknowledgement waits for S3 before answering 503
   * `STORAGE_UNAVAILABLE` (`committedLocally: true`), from 1 ms.
   * @default DEFAULT_REPLICATION_ACK_TIMEOUT_MS (15 s)
   */
  readonly replicationAckTimeoutMs?: number
  /** Where to start from if the tenant's own replica holds nothing yet (a fork). */
  readonly restoreFrom?: RestoreSource
}

/** Where a launcher puts a worker: its folder and its address. */
export interface WorkerPlacement {
  /** The tenant's own folder: `tenant.db` and its WAL live here. */
  readonly tenantDir: string
  /** Address the tenant API listens on. @default '127.0.0.1' */
  readonly host?: string
  /** Port the tenant API listens on; 0 picks a free one. @default 0 */
  readonly port?: number
  /** Host the control plane reaches the worker at (a pod's IP). @default host */
  readonly advertiseHost?: string
}

/** Everything a worker process is started with, as {@link parseWorkerEnvironment} reads it. */
export interface WorkerEnvironment extends WorkerSettings {
  readonly tenantDir: string
  readonly host: string
  readonly port: number
  readonly advertiseHost: string
  readonly fenceMarginMs: number
  readonly stopTimeoutMs: number
  readonly syncTimeoutMs: number
}

/** The environment variable of each setting: the one spelling both sides use. */
export const WORKER_ENV = {
  tenantId: 'LITECELL_TENANT_ID',
  incarnation: 'LITECELL_INCARNATION',
  epoch: 'LITECELL_EPOCH',
  workerSecret: 'LITECELL_WORKER_SECRET',
  controlUrl: 'LITECELL_CONTROL_URL',
  appPath: 'LITECELL_APP',
  appName: 'LITECELL_APP_NAME',
  appUpgradeFrom: 'LITECELL_APP_UPGRADE_FROM',
  idleMs: 'LITECELL_IDLE_MS',
  leaseTtlMs: 'LITECELL_LEASE_TTL_MS',
  fenceMarginMs: 'LITECELL_FENCE_MARGIN_MS',
  syncIntervalMs: 'LITECELL_SYNC_INTERVAL_MS',
  stopTimeoutMs: 'LITECELL_STOP_TIMEOUT_MS',
  syncTimeoutMs: 'LITECELL_SYNC_TIMEOUT_MS',
  concurrency: 'LITECELL_CONCURRENCY',
  queryTimeoutMs: 'LITECELL_QUERY_TIMEOUT_MS',
  replicationAckTimeoutMs: 'LITECELL_REPLICATION_ACK_TIMEOUT_MS',
  restoreFromTenant: 'LITECELL_RESTORE_FROM_TENANT',
  restoreFromAt: 'LITECELL_RESTORE_FROM_AT',
  restoreFromIncarnation: 'LITECELL_RESTORE_FROM_INCARNATION',
  tenantDir: 'LITECELL_TENANT_DIR',
  host: 'LITECELL_WORKER_HOST',
  port: 'LITECELL_WORKER_PORT',
  advertiseHost: 'LITECELL_WORKER_ADVERTISE_HOST',
} as const

/**
 * The environment that {@link parseWorkerEnvironment} reads back as these settings and this
 * placement (storage as `LITECELL_S3_*` / `AWS_*`). Secrets are among the variables: a
 * launcher must keep them out of anything others can read (see the Kubernetes pod Secret).
 */
export function serializeWorkerEnvironment(
  settings: WorkerSettings,
  placement: WorkerPlacement,
): Record<string, string> {
  const env: Record<string, string> = {
    ...storageToEnv(settings.storage),
    [WORKER_ENV.tenantId]: settings.tenantId,
    [WORKER_ENV.epoch]: String(settings.epoch),
    [WORKER_ENV.workerSecret]: settings.workerSecret,
    [WORKER_ENV.controlUrl]: settings.controlUrl,
    [WORKER_ENV.appPath]: settings.appPath,
    [WORKER_ENV.idleMs]: String(settings.idleMs),
    [WORKER_ENV.leaseTtlMs]: String(settings.leaseTtlMs),
    [WORKER_ENV.syncIntervalMs]: String(settings.syncIntervalMs),
    [WORKER_ENV.tenantDir]: placement.tenantDir,
  }
  const optional = {
    incarnation: settings.incarnation,
    appName: settings.appName,
    appUpgradeFrom: settings.appUpgradeFrom,
    fenceMarginMs: settings.fenceMarginMs,
    stopTimeoutMs: settings.stopTimeoutMs,
    syncTimeoutMs: settings.syncTimeoutMs,
    concurrency: settings.concurrency,
    queryTimeoutMs: settings.queryTimeoutMs,
    replicationAckTimeoutMs: settings.replicationAckTimeoutMs,
    host: placement.host,
    port: placement.port,
    advertiseHost: placement.advertiseHost,
  }
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) env[WORKER_ENV[key as keyof typeof optional]] = String(value)
  }
  if (settings.restoreFrom) {
    env[WORKER_ENV.restoreFromTenant] = settings.restoreFrom.tenantId
    env[WORKER_ENV.restoreFromAt] = settings.restoreFrom.at
    if (settings.restoreFrom.incarnation) {
      env[WORKER_ENV.restoreFromIncarnation] = settings.restoreFrom.incarnation
    }
  }
  return env
}

/**
 * Reads and validates a worker's environment; `INVALID_CONFIG` names the first variable that
 * is missing or wrong, quoting its value (never a secret's).
 */
export function parseWorkerEnvironment(env: NodeJS.ProcessEnv): WorkerEnvironment {
  const fail = (message: string): never => {
    throw new ProtocolError('INVALID_CONFIG', message)
  }
  const required = (name: string): string =>
    env[name] || fail(`missing environment variable ${name}`)
  const integer = (name: string, fallback?: number): number => {
    const raw = env[name]
    if (raw === undefined || raw === '')
      return fallback ?? fail(`missing environment variable ${name}`)
    const value = Number(raw)
    if (!Number.isInteger(value) || value < 0) {
      fail(`Expected ${name} to be a non-negative integer, got \`${raw}\``)
    }
    return value
  }
  const absolute = (name: string): string => {
    const path = required(name)
    return isAbsolute(path)
      ? path
      : fail(`Expected ${name} to be an absolute path, got \`${path}\``)
  }
  const tenantId = required(WORKER_ENV.tenantId)
  if (!isTenantId(tenantId))
    fail(`Expected ${WORKER_ENV.tenantId} to be a slug, got \`${tenantId}\``)
  const storage =
    storageFromEnv(env) ??
    fail('no storage configured: set LITECELL_S3_BUCKET (and LITECELL_S3_ENDPOINT)')
  const leaseTtlMs = integer(WORKER_ENV.leaseTtlMs, DEFAULT_LEASE_TTL_MS)
  const host = env[WORKER_ENV.host] || DEFAULT_WORKER_HOST
  const concurrency = env[WORKER_ENV.concurrency] ? integer(WORKER_ENV.concurrency) : undefined
  const queryTimeoutMs = env[WORKER_ENV.queryTimeoutMs]
    ? integer(WORKER_ENV.queryTimeoutMs)
    : undefined
  const replicationAckTimeoutMs = env[WORKER_ENV.replicationAckTimeoutMs]
    ? integer(WORKER_ENV.replicationAckTimeoutMs)
    : undefined
  const restoreFrom = restoreSourceOf(env, fail)
  for (const [name, value] of [
    [WORKER_ENV.queryTimeoutMs, queryTimeoutMs],
    [WORKER_ENV.replicationAckTimeoutMs, replicationAckTimeoutMs],
  ] as const) {
    if (value === 0) fail(`Expected ${name} to be an integer from 1 and up, got \`0\``)
  }
  return {
    tenantId,
    epoch: integer(WORKER_ENV.epoch),
    workerSecret: required(WORKER_ENV.workerSecret),
    controlUrl: required(WORKER_ENV.controlUrl),
    appPath: absolute(WORKER_ENV.appPath),
    ...incarnationOf(env, fail),
    ...(env[WORKER_ENV.appName] ? { appName: env[WORKER_ENV.appName] } : {}),
    ...(env[WORKER_ENV.appUpgradeFrom] ? { appUpgradeFrom: env[WORKER_ENV.appUpgradeFrom] } : {}),
    storage,
    idleMs: integer(WORKER_ENV.idleMs, DEFAULT_IDLE_MS),
    leaseTtlMs,
    fenceMarginMs: integer(
      WORKER_ENV.fenceMarginMs,
      Math.min(DEFAULT_FENCE_MARGIN_MS, Math.floor(leaseTtlMs / 2)),
    ),
    syncIntervalMs: integer(WORKER_ENV.syncIntervalMs, DEFAULT_SYNC_INTERVAL_MS),
    stopTimeoutMs: integer(WORKER_ENV.stopTimeoutMs, DEFAULT_STOP_TIMEOUT_MS),
    syncTimeoutMs: integer(WORKER_ENV.syncTimeoutMs, DEFAULT_SYNC_TIMEOUT_MS),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(queryTimeoutMs !== undefined ? { queryTimeoutMs } : {}),
    ...(replicationAckTimeoutMs !== undefined ? { replicationAckTimeoutMs } : {}),
    ...(restoreFrom ? { restoreFrom } : {}),
    tenantDir: absolute(WORKER_ENV.tenantDir),
    host,
    port: integer(WORKER_ENV.port, 0),
    advertiseHost: env[WORKER_ENV.advertiseHost] || host,
  }
}

function restoreSourceOf(
  env: NodeJS.ProcessEnv,
  fail: (message: string) => never,
): RestoreSource | undefined {
  const tenantId = env[WORKER_ENV.restoreFromTenant]
  const at = env[WORKER_ENV.restoreFromAt]
  if (!tenantId && !at) return undefined
  if (!isTenantId(tenantId)) {
    fail(`Expected ${WORKER_ENV.restoreFromTenant} to be a tenant id, got \`${tenantId ?? ''}\``)
  }
  if (!at || Number.isNaN(Date.parse(at))) {
    fail(`Expected ${WORKER_ENV.restoreFromAt} to be an ISO 8601 time, got \`${at ?? ''}\``)
  }
  const incarnation = env[WORKER_ENV.restoreFromIncarnation]
  if (incarnation !== undefined && !isIncarnation(incarnation)) {
    fail(
      `Expected ${WORKER_ENV.restoreFromIncarnation} to be an incarnation id, got \`${incarnation}\``,
    )
  }
  return { tenantId: tenantId as string, at: at as string, ...(incarnation ? { incarnation } : {}) }
}

function incarnationOf(
  env: NodeJS.ProcessEnv,
  fail: (message: string) => never,
): { incarnation?: string } {
  const incarnation = env[WORKER_ENV.incarnation]
  if (incarnation === undefined) return {}
  if (!isIncarnation(incarnation)) {
    fail(`Expected ${WORKER_ENV.incarnation} to be an incarnation id, got \`${incarnation}\``)
  }
  return { incarnation }
}
