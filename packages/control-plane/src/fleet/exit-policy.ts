import {
  EXIT_APP_LOAD_FAILED,
  EXIT_APP_REFUSED,
  EXIT_HIBERNATED,
  EXIT_LEASE_LOST,
  EXIT_NO_RESTORE_POINT,
  EXIT_STORAGE_UNAVAILABLE,
} from '@litecell/protocol'
import type { Logger } from 'pino'
import type { FleetMetrics } from '../fleet-metrics.js'
import type { WorkerExit } from '../launcher.js'
import type { Registry } from '../registry.js'
import { appLoadFailed } from './worker-launch.js'

/** Crashes within {@link CRASH_WINDOW_MS} that mark a tenant failed. */
export const CRASH_LIMIT = 5
/** The window crash-loop detection looks at. */
export const CRASH_WINDOW_MS = 5 * 60_000
/** First restart delay after a crash; doubles with each further crash. */
export const CRASH_BACKOFF_BASE_MS = 500
/** Longest restart delay. */
export const CRASH_BACKOFF_MAX_MS = 30_000
/** First retry after the storage could not be reached; doubles with each failure in a row. */
export const STORAGE_BACKOFF_BASE_MS = 1_000
/** Longest wait before the next try while the storage stays unreachable. */
export const STORAGE_BACKOFF_MAX_MS = 15_000

/** What a worker's exit means for its tenant. */
export type ExitKind =
  /** A verified hibernation: the replica holds everything, the local files are gone. */
  | 'hibernated'
  /** The replica could not be verified because of the storage: not the tenant's fault. */
  | 'storage-unavailable'
  /** It stopped writing without hibernating (lease lost, or the control plane is closing). */
  | 'fenced'
  /** A fork found nothing to restore from its source: retrying cannot help. */
  | 'no-restore-point'
  /** Its engine refused the tenant's file (another app, a changed migration): nor can that. */
  | 'refused'
  /** The tenant's app module does not load: the app's fault, not a crash of the tenant. */
  | 'app-load-failed'
  /** Anything else: counted toward `failed`, restarted with backoff. */
  | 'crashed'

/**
 * Classifies an exit by the protocol's exit codes. Exit 0 is a hibernation only with the
 * worker's `hibernated` report (issue 9, item 9): an app's `process.exit(0)` exits 0 too, with
 * the tenant's files unsynced, and is a crash like any other.
 */
export function classifyExit(
  exit: WorkerExit,
  options: { closing: boolean; reportedHibernation: boolean },
): ExitKind {
  if (exit.code === EXIT_HIBERNATED && options.reportedHibernation) return 'hibernated'
  if (exit.code === EXIT_STORAGE_UNAVAILABLE) return 'storage-unavailable'
  if (exit.code === EXIT_NO_RESTORE_POINT) return 'no-restore-point'
  if (exit.code === EXIT_APP_REFUSED) return 'refused'
  if (exit.code === EXIT_APP_LOAD_FAILED) return 'app-load-failed'
  if (exit.code === EXIT_LEASE_LOST || options.closing) return 'fenced'
  return 'crashed'
}

/** Delay before the scheduler restarts a tenant after its `crashCount`-th recent crash. */
export function crashBackoffMs(crashCount: number): number {
  return Math.min(CRASH_BACKOFF_MAX_MS, CRASH_BACKOFF_BASE_MS * 2 ** Math.max(0, crashCount - 1))
}

/** Delay before the next try after the `failures`-th storage failure in a row. */
export function storageBackoffMs(failures: number): number {
  return Math.min(STORAGE_BACKOFF_MAX_MS, STORAGE_BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1))
}

/** The exited worker, as the policy needs it. */
export interface ExitedWorker {
  readonly tenantId: string
  readonly epoch: number
  /** What the worker reported when it hibernated (undefined: no report). */
  readonly reportedNextWakeAt: number | null | undefined
  /** Whether it reported ready (a storage failure before that happened at its start). */
  readonly wasReady: boolean
  /** The app it ran, and why it refused the tenant (if it reported that). */
  readonly app: string
  readonly refusal?: { readonly message: string } | null | undefined
}

/**
 * Settles a tenant after its worker's exit (the lease is already ended): a hibernation sets
 * its next wake; a storage failure or a fence schedules a restart from its files; a crash is
 * recorded and restarted with backoff, until the tenant crash-loops into `failed`.
 */
export function settleExit(
  parts: { registry: Registry; log: Logger; metrics?: FleetMetrics | undefined },
  worker: ExitedWorker,
  exit: WorkerExit,
  options: {
    nowMs: number
    closing: boolean
    /** Storage failures of this tenant in a row, this one included (storage exits only). */
    storageFailures?: number
  },
): ExitKind {
  const { registry, log } = parts
  const { tenantId, epoch } = worker
  const { nowMs } = options
  const kind = classifyExit(exit, {
    closing: options.closing,
    reportedHibernation: worker.reportedNextWakeAt !== undefined,
  })
  switch (kind) {
    case 'hibernated': {
      const nextWakeAt = worker.reportedNextWakeAt ?? null
      registry.setState(tenantId, 'hibernated', { nextWakeAt, clearWorker: true })
      // A fork's own replica now holds its state: later wakes restore from it alone.
      registry.setRestoreFrom(tenantId, null)
      log.info({ tenantId, epoch, nextWakeAt }, 'tenant hibernated')
      return kind
    }
    case 'storage-unavailable': {
      // Not the tenant's fault: never counted toward `failed` (issue 9, item 7), retried with
      // backoff. A failed hibernation kept local files: restart from them. A start found
      // nothing to restore from: keep the tenant's own timer, tried again after the backoff.
      const failures = options.storageFailures ?? 1
      const retryAt = nowMs + storageBackoffMs(failures)
      const ownWake = registry.get(tenantId)?.nextWakeAt ?? null
      const nextWakeAt = worker.wasReady
        ? retryAt
        : ownWake === null
          ? null
          : Math.max(ownWake, retryAt)
      registry.setState(tenantId, 'hibernated', { nextWakeAt, clearWorker: true })
      log.warn(
        { tenantId, epoch, failures, nextWakeAt },
        worker.wasReady
          ? 'hibernate could not verify the replica (storage unreachable); local files kept, retrying later'
          : 'storage unreachable at start; retrying later',
      )
      return kind
    }
    case 'fenced':
      registry.setState(tenantId, 'hibernated', { nextWakeAt: nowMs, clearWorker: true })
      log.warn({ tenantId, epoch, exit }, 'worker stopped without hibernating')
      return kind
    case 'no-restore-point':
      registry.setState(tenantId, 'failed', {
        failureReason: `nothing to restore from its source; see logs/${tenantId}.log`,
        nextWakeAt: null,
        clearWorker: true,
      })
      return kind
    case 'app-load-failed': {
      // No restart helps until the app is fixed, and it is not the tenant's crash: keep the
      // tenant out of the crash count and the wake scheduler, with the app's own error.
      const reason = appLoadFailed(worker).message
      registry.setState(tenantId, 'failed', {
        failureReason: reason,
        nextWakeAt: null,
        clearWorker: true,
      })
      log.error({ tenantId, epoch, reason }, 'tenant app does not load')
      return kind
    }
    case 'refused': {
      // Not a crash: the tenant's file does not match its app, and no retry changes that. It
      // stays failed, with the reason, until an upgrade or an admin wake.
      const reason =
        worker.refusal?.message ??
        `its worker refused the tenant's file (another app, or a changed migration); see logs/${tenantId}.log`
      registry.setState(tenantId, 'failed', {
        failureReason: reason,
        nextWakeAt: null,
        clearWorker: true,
      })
      log.error({ tenantId, epoch, reason }, 'tenant refused by its app')
      return kind
    }
    case 'crashed':
      recordCrash(parts, tenantId, exit, nowMs)
      return kind
  }
}

function recordCrash(
  {
    registry,
    log,
    metrics,
  }: { registry: Registry; log: Logger; metrics?: FleetMetrics | undefined },
  tenantId: string,
  exit: WorkerExit,
  nowMs: number,
): void {
  metrics?.workerCrashed()
  const how = exit.code !== null ? `code ${exit.code}` : `signal ${exit.signal}`
  const detail =
    exit.code === EXIT_HIBERNATED
      ? `worker exited with code 0 without reporting a verified hibernation`
      : `worker exited with ${how}`
  const crashes = registry.recordCrash(tenantId, {
    exitCode: exit.code,
    detail,
    nowMs,
    sinceMs: nowMs - CRASH_WINDOW_MS,
  })
  if (crashes >= CRASH_LIMIT) {
    const reason = `${detail}; ${crashes} crashes within ${CRASH_WINDOW_MS / 60_000} minutes; see logs/${tenantId}.log`
    registry.setState(tenantId, 'failed', {
      failureReason: reason,
      nextWakeAt: null,
      clearWorker: true,
    })
    log.error({ tenantId, reason }, 'tenant failed')
    return
  }
  // Restart through the wake scheduler, after a backoff: the local files it kept hold work.
  registry.setState(tenantId, 'hibernated', {
    nextWakeAt: nowMs + crashBackoffMs(crashes),
    clearWorker: true,
  })
  log.warn({ tenantId, crashes, detail }, 'worker crashed; restarting with backoff')
}
