import { describeValue } from './describe-value.js'
import { REFUSED_REPORT_CODES, type RefusedCode } from './exit-codes.js'
import { ProtocolError } from './protocol-error.js'
import { optionalInteger, requireString, type JsonObject } from './request-body.js'
import { parseTenantId } from './tenant-id.js'

/**
 * The internal API between the control plane and its workers. Workers call the control plane
 * back at `POST /internal/v1/workers/<callback>` with their secret as bearer token; the control
 * plane calls a worker at the routes below with the secret in {@link WORKER_SECRET_HEADER}.
 * Tenant API requests (`/v1/tenants/<id>/…`) are forwarded to the worker with that header too.
 */

/** Header carrying the per-worker secret on calls to a worker. */
export const WORKER_SECRET_HEADER = 'x-litecell-worker-secret'
/** Where the control plane mounts the worker callbacks. */
export const CALLBACK_BASE_PATH = '/internal/v1'
/** Worker route: hibernate now (verified final sync, local files removed); answers when done. */
export const HIBERNATE_PATH = '/internal/hibernate'
/**
 * Worker route: make the replica current without stopping. Answers a {@link SyncPoint} once
 * a restore of the replica proved it holds every transaction committed before the call.
 */
export const SYNC_POINT_PATH = '/internal/sync-point'

/** The answer of {@link SYNC_POINT_PATH}. */
export interface SyncPoint {
  /**
   * ISO time (the storage's clock) of the replica's newest object once the proof held: a
   * restore as of this time holds every transaction committed before the request.
   */
  readonly at: string
}

/** The callbacks a worker makes on the control plane. */
export type WorkerCallback = 'ready' | 'heartbeat' | 'idle' | 'hibernated' | 'refused'
export const WORKER_CALLBACKS: readonly WorkerCallback[] = [
  'ready',
  'heartbeat',
  'idle',
  'hibernated',
  'refused',
]

/** The route of the callbacks below {@link CALLBACK_BASE_PATH}, for a router. */
export const CALLBACK_ROUTE = '/workers/:callback'

/** The path of a callback below {@link CALLBACK_BASE_PATH}. */
export function callbackPath(callback: WorkerCallback): string {
  return CALLBACK_ROUTE.replace(':callback', callback)
}

/** What a worker reports since its previous heartbeat; the control plane adds it up. */
export interface MetricsDelta {
  /** Runs that reached each status. */
  runs: Partial<Record<string, number>>
  /** Step durations in ms (sampled). */
  stepMs: number[]
  /** Steps ended, including those beyond the samples. */
  steps: number
  /** Times Litestream had to be restarted. */
  replicationRestarts: number
}

/** Who calls back: every callback names its tenant and lease epoch. */
export interface CallbackCaller {
  readonly tenantId: string
  readonly epoch: number
}

/** `ready`: the worker serves at `url`. */
export interface ReadyReport {
  readonly url: string
  readonly pid: number
  /**
   * Runs the engine quarantined when it opened: the worker deaths that led there were those
   * runs' doing, so the control plane stops counting them against the tenant.
   */
  readonly quarantinedRuns: number
}

/** `heartbeat`: lease renewal, with the worker's load. */
export interface HeartbeatReport {
  readonly activeRuns: number
  /** Epoch ms of the next durable timer, or null. */
  readonly nextWakeAt: number | null
  readonly metrics?: MetricsDelta
  /** The worker process's resident set size, in bytes (the dashboard shows it). */
  readonly rssBytes?: number
  /**
   * What a control plane restarted on the same registry needs to adopt the worker (it knows
   * the tenant, epoch and secret hash already): where it serves, its process id, the tenant
   * incarnation it serves, and whether it is stopping (hibernating or fencing).
   */
  readonly url?: string
  readonly pid?: number
  readonly incarnation?: string
  readonly stopping?: boolean
}

/** `hibernated`: a verified hibernation finished (local files already removed). */
export interface HibernatedReport {
  readonly nextWakeAt: number | null
  readonly metrics?: MetricsDelta
}

/**
 * `refused`: the worker cannot serve the tenant and exits next, for a reason no restart fixes:
 * its engine refused the tenant's file (`APP_MISMATCH`, `MIGRATION_MISMATCH`: exit code
 * `EXIT_APP_REFUSED`; `message` names the app or migration and what to do), or its app module
 * does not load (`APP_LOAD_FAILED`: exit code `EXIT_APP_LOAD_FAILED`; `message` is the module's
 * own error). The control plane answers the wake that launched it with this code and message.
 */
export interface RefusedReport {
  readonly code: RefusedCode
  readonly message: string
}

/** Longest refusal message kept (a compile error can be long: the rest is cut, not refused). */
export const MAX_REFUSAL_MESSAGE_LENGTH = 4096

/** The answer to `ready` and `heartbeat`. */
export interface LeaseAnswer {
  readonly leaseExpiresAt: number
}

/** The answer to `idle`: whether the worker may hibernate now. */
export interface IdleAnswer {
  readonly hibernate: boolean
}

const MAX = Number.MAX_SAFE_INTEGER

/** Reads the caller of a callback body (`INVALID_TENANT_ID`, `BAD_REQUEST`). */
export function parseCallbackCaller(body: JsonObject): CallbackCaller {
  return {
    tenantId: parseTenantId(body.tenantId),
    epoch: optionalInteger(body.epoch, 'epoch', 1, MAX) ?? 0,
  }
}

/** Reads a `ready` body. */
export function parseReadyReport(body: JsonObject): ReadyReport {
  return {
    url: requireString(body, 'url', 2048),
    pid: optionalInteger(body.pid, 'pid', 0, MAX) ?? 0,
    quarantinedRuns: optionalInteger(body.quarantinedRuns, 'quarantinedRuns', 0, MAX) ?? 0,
  }
}

/** Reads a `heartbeat` body; malformed metrics are dropped, not fatal. */
export function parseHeartbeatReport(body: JsonObject): HeartbeatReport {
  const rssBytes = optionalInteger(body.rssBytes, 'rssBytes', 0, MAX)
  const pid = optionalInteger(body.pid, 'pid', 1, MAX)
  return {
    activeRuns: optionalInteger(body.activeRuns, 'activeRuns', 0, MAX) ?? 0,
    nextWakeAt: optionalInteger(body.nextWakeAt, 'nextWakeAt', 0, MAX) ?? null,
    ...metricsField(body),
    ...(rssBytes !== undefined ? { rssBytes } : {}),
    ...(body.url === undefined ? {} : { url: requireString(body, 'url', 2048) }),
    ...(pid !== undefined ? { pid } : {}),
    ...(body.incarnation === undefined
      ? {}
      : { incarnation: requireString(body, 'incarnation', 200) }),
    ...(body.stopping === true ? { stopping: true } : {}),
  }
}

/** Reads a `hibernated` body. */
export function parseHibernatedReport(body: JsonObject): HibernatedReport {
  return {
    nextWakeAt: optionalInteger(body.nextWakeAt, 'nextWakeAt', 0, MAX) ?? null,
    ...metricsField(body),
  }
}

/** Reads a `refused` body (`BAD_REQUEST` for a code that is not a refusal). */
export function parseRefusedReport(body: JsonObject): RefusedReport {
  const code = requireString(body, 'code')
  if (!(REFUSED_REPORT_CODES as readonly string[]).includes(code)) {
    throw new ProtocolError(
      'BAD_REQUEST',
      `Expected \`code\` to be one of ${REFUSED_REPORT_CODES.join(', ')}, got ${describeValue(code)}`,
    )
  }
  const message = typeof body.message === 'string' ? body.message : ''
  return { code: code as RefusedCode, message: message.slice(0, MAX_REFUSAL_MESSAGE_LENGTH) }
}

/** Whether a route parameter names a worker callback. */
export function isWorkerCallback(value: string): value is WorkerCallback {
  return (WORKER_CALLBACKS as readonly string[]).includes(value)
}

function metricsField(body: JsonObject): { metrics?: MetricsDelta } {
  const metrics = parseMetricsDelta(body.metrics)
  return metrics ? { metrics } : {}
}

/** The metrics a worker sent, if well-formed; undefined otherwise. */
export function parseMetricsDelta(value: unknown): MetricsDelta | undefined {
  const metrics = value as Partial<MetricsDelta> | undefined
  if (typeof metrics !== 'object' || metrics === null) return undefined
  const isCount = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0
  if (!isCount(metrics.steps) || !isCount(metrics.replicationRestarts)) return undefined
  if (!Array.isArray(metrics.stepMs) || !metrics.stepMs.every(isCount)) return undefined
  if (typeof metrics.runs !== 'object' || metrics.runs === null) return undefined
  if (!Object.values(metrics.runs).every(isCount)) return undefined
  return metrics as MetricsDelta
}
