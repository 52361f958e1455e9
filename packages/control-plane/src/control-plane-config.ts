import { resolve } from 'node:path'
import {
  DEFAULT_IDLE_MS,
  DEFAULT_LEASE_TTL_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  DEFAULT_SYNC_INTERVAL_MS,
  DURABILITIES,
  DEFAULT_SYNC_TIMEOUT_MS,
  WORKER_ENV,
  isDurability,
  storageFromEnv,
  type Durability,
} from '@litecell/protocol'
import { validateStorageConfig, type StorageConfig } from '@litecell/replica'
import { ControlPlaneError } from './control-plane-error.js'
import {
  kubernetesLauncherOptionsFromEnv,
  type KubernetesLauncherOptions,
} from './kubernetes/launcher-options.js'
import { DEFAULT_WAKE_WAIT_MS } from './fleet/wake-queue.js'
import { DEFAULT_STANDBY_WORKERS, DEFAULT_WORKER_MAX_OLD_SPACE_MB } from './local-launcher.js'

/** Port of the public API. */
export const DEFAULT_PORT = 8787
/** Data directory, relative to the current directory. */
export const DEFAULT_DATA_DIR = '.litecell'
/** Most workers active at once. */
export const DEFAULT_MAX_WORKERS = 16
/**
 * Litestream sync interval of the registry (its monitor runs at half of it). Shorter than the
 * tenants' default: creating, forking and deleting a tenant wait for their registry change to
 * be confirmed in S3 (issue 11), and many concurrent changes share one confirmation.
 */
export const DEFAULT_REGISTRY_SYNC_INTERVAL_MS = 100

/** Settings of a control plane. */
export interface ControlPlaneConfig {
  readonly port: number
  readonly host: string
  readonly dataDir: string
  /** Apps by name; `default` is required. Absolute module paths. */
  readonly apps: Readonly<Record<string, string>>
  /** The admin token; if absent one is generated, stored and printed once. */
  readonly adminToken: string | undefined
  /** S3 storage; null starts the embedded S3 server under `<dataDir>/s3`. */
  readonly storage: StorageConfig | null
  /** Port for the embedded S3 server (0: any free port). */
  readonly embeddedS3Port: number
  readonly maxWorkers: number
  /** Longest a wake waits for a worker slot before 429 (LITECELL_WAKE_WAIT_MS). */
  readonly wakeWaitMs?: number
  /** Most workers starting at once (LITECELL_MAX_STARTING; default two per core). */
  readonly maxStarting?: number
  readonly idleMs: number
  readonly leaseTtlMs: number
  readonly syncIntervalMs: number
  /** The registry's own Litestream sync interval (LITECELL_REGISTRY_SYNC_INTERVAL_MS). @default 100 */
  readonly registrySyncIntervalMs?: number
  /** Durability of tenants created without one (LITECELL_DURABILITY); absent: by launcher. */
  readonly durability?: Durability
  /** Longest a replicated acknowledgement waits for S3 (LITECELL_REPLICATION_ACK_TIMEOUT_MS). */
  readonly replicationAckTimeoutMs?: number
  /** How long a stop waits for runs (LITECELL_STOP_TIMEOUT_MS); past it they resume on the next wake. */
  readonly stopTimeoutMs?: number
  /** Budget of a stop's verified final sync (LITECELL_SYNC_TIMEOUT_MS). */
  readonly syncTimeoutMs?: number
  readonly workerMaxOldSpaceMb: number
  /** Worker processes kept started and waiting, for fast wakes. */
  readonly standbyWorkers: number
  /** Runs at once in each worker's engine (LITECELL_CONCURRENCY); absent: the engine's default. */
  readonly concurrency?: number
  /** Longest a tenant query may run (LITECELL_QUERY_TIMEOUT_MS); absent: the engine's default. */
  readonly queryTimeoutMs?: number
  /** Set (LITECELL_LAUNCHER=kubernetes): workers run as pods; absent: local processes. */
  readonly kubernetes?: KubernetesLauncherOptions
  /** The control plane's URL as workers reach it (its Service), when not `url`. */
  readonly advertiseUrl?: string
}

/**
 * Reads the control plane's settings from the environment: LITECELL_PORT, LITECELL_HOST,
 * LITECELL_DATA_DIR, LITECELL_APP (and LITECELL_APPS=name=path,…), LITECELL_ADMIN_TOKEN,
 * LITECELL_MAX_WORKERS, LITECELL_WAKE_WAIT_MS, LITECELL_MAX_STARTING, LITECELL_IDLE_MS,
 * LITECELL_LEASE_TTL_MS, LITECELL_SYNC_INTERVAL_MS, LITECELL_STOP_TIMEOUT_MS, LITECELL_SYNC_TIMEOUT_MS,
 * LITECELL_WORKER_MAX_OLD_SPACE_MB, LITECELL_STANDBY_WORKERS, LITECELL_S3_* / AWS_* (see the replica package).
 * LITECELL_ADVERTISE_URL, and LITECELL_LAUNCHER=kubernetes with LITECELL_K8S_* (see
 * kubernetes/launcher-options.ts), LITECELL_DURABILITY, LITECELL_REGISTRY_SYNC_INTERVAL_MS.
 * LITECELL_CONCURRENCY, LITECELL_QUERY_TIMEOUT_MS and LITECELL_REPLICATION_ACK_TIMEOUT_MS are
 * worker settings (pods do not inherit this process's environment).
 */
export function controlPlaneConfigFromEnv(
  env: NodeJS.ProcessEnv,
  defaults: { appPath: string },
): ControlPlaneConfig {
  const apps: Record<string, string> = { default: resolve(env.LITECELL_APP || defaults.appPath) }
  for (const entry of (env.LITECELL_APPS ?? '').split(',').filter(Boolean)) {
    const [name, path] = entry.split('=')
    if (!name || !path) throw new ControlPlaneError('INVALID_CONFIG', `Expected LITECELL_APPS entries as name=path, got \`${entry}\``)
    apps[name] = resolve(path)
  }
  const settings = storageFromEnv(env)
  const storage = settings === null ? null : validateStorageConfig(settings)
  const kubernetes = kubernetesConfig(env, storage)
  const durability = env.LITECELL_DURABILITY || undefined
  if (durability !== undefined && !isDurability(durability)) {
    throw new ControlPlaneError(
      'INVALID_CONFIG',
      `Expected LITECELL_DURABILITY to be one of ${DURABILITIES.join(', ')}, got \`${durability}\``,
    )
  }
  return {
    port: integer(env, 'LITECELL_PORT', DEFAULT_PORT),
    host: env.LITECELL_HOST || '127.0.0.1',
    dataDir: resolve(env.LITECELL_DATA_DIR || DEFAULT_DATA_DIR),
    apps,
    adminToken: env.LITECELL_ADMIN_TOKEN || undefined,
    storage,
    embeddedS3Port: integer(env, 'LITECELL_EMBEDDED_S3_PORT', 0),
    maxWorkers: integer(env, 'LITECELL_MAX_WORKERS', DEFAULT_MAX_WORKERS),
    wakeWaitMs: integer(env, 'LITECELL_WAKE_WAIT_MS', DEFAULT_WAKE_WAIT_MS),
    ...(env.LITECELL_MAX_STARTING ? { maxStarting: positive(env, 'LITECELL_MAX_STARTING') } : {}),
    idleMs: integer(env, 'LITECELL_IDLE_MS', DEFAULT_IDLE_MS),
    leaseTtlMs: integer(env, 'LITECELL_LEASE_TTL_MS', DEFAULT_LEASE_TTL_MS),
    syncIntervalMs: integer(env, 'LITECELL_SYNC_INTERVAL_MS', DEFAULT_SYNC_INTERVAL_MS),
    stopTimeoutMs: integer(env, WORKER_ENV.stopTimeoutMs, DEFAULT_STOP_TIMEOUT_MS),
    syncTimeoutMs: positive(env, WORKER_ENV.syncTimeoutMs, DEFAULT_SYNC_TIMEOUT_MS),
    workerMaxOldSpaceMb: integer(env, 'LITECELL_WORKER_MAX_OLD_SPACE_MB', DEFAULT_WORKER_MAX_OLD_SPACE_MB),
    standbyWorkers: integer(env, 'LITECELL_STANDBY_WORKERS', DEFAULT_STANDBY_WORKERS),
    ...(env[WORKER_ENV.concurrency]
      ? { concurrency: integer(env, WORKER_ENV.concurrency, 0) }
      : {}),
    ...(env[WORKER_ENV.queryTimeoutMs]
      ? { queryTimeoutMs: positive(env, WORKER_ENV.queryTimeoutMs) }
      : {}),
    ...(env[WORKER_ENV.replicationAckTimeoutMs]
      ? { replicationAckTimeoutMs: positive(env, WORKER_ENV.replicationAckTimeoutMs) }
      : {}),
    ...(env.LITECELL_REGISTRY_SYNC_INTERVAL_MS
      ? { registrySyncIntervalMs: positive(env, 'LITECELL_REGISTRY_SYNC_INTERVAL_MS') }
      : {}),
    ...(durability ? { durability } : {}),
    ...(kubernetes ? { kubernetes } : {}),
    ...(env.LITECELL_ADVERTISE_URL
      ? { advertiseUrl: env.LITECELL_ADVERTISE_URL.replace(/\/+$/, '') }
      : {}),
  }
}

/** The Kubernetes launcher's settings, if chosen: pods need real S3 and a reachable control plane. */
function kubernetesConfig(
  env: NodeJS.ProcessEnv,
  storage: StorageConfig | null,
): KubernetesLauncherOptions | undefined {
  const launcher = env.LITECELL_LAUNCHER || 'local'
  if (launcher === 'local') return undefined
  const fail = (message: string): never => {
    throw new ControlPlaneError('INVALID_CONFIG', message)
  }
  if (launcher !== 'kubernetes') {
    fail(`Expected LITECELL_LAUNCHER to be local or kubernetes, got \`${launcher}\``)
  }
  if (storage === null || /^https?:\/\/(127\.|localhost|\[::1\])/.test(storage.endpoint ?? '')) {
    fail(
      'LITECELL_LAUNCHER=kubernetes needs S3 that pods can reach: set LITECELL_S3_BUCKET ' +
        '(and LITECELL_S3_ENDPOINT for R2/MinIO), not a loopback endpoint',
    )
  }
  if (!env.LITECELL_ADVERTISE_URL) {
    fail(
      'LITECELL_LAUNCHER=kubernetes needs LITECELL_ADVERTISE_URL: the control plane URL worker pods ' +
        'use (its Service, e.g. http://litecell.litecell.svc:8787)',
    )
  }
  try {
    return kubernetesLauncherOptionsFromEnv(env)
  } catch (err) {
    throw new ControlPlaneError('INVALID_CONFIG', (err as Error).message, { cause: err })
  }
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0) {
    throw new ControlPlaneError('INVALID_CONFIG', `Expected ${name} to be a non-negative integer, got \`${raw}\``)
  }
  return value
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback = 0): number {
  const value = integer(env, name, fallback)
  if (value < 1) {
    throw new ControlPlaneError('INVALID_CONFIG', `Expected ${name} to be an integer from 1 and up, got \`${value}\``)
  }
  return value
}
