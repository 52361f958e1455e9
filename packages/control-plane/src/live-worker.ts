import type { WorkerProcess } from './launcher.js'

/** What the control plane knows, in memory, about one running worker. */
export interface LiveWorker {
  readonly tenantId: string
  readonly epoch: number
  /** The worker's secret (memory only): proxied requests carry it. */
  readonly secret: string
  readonly secretHash: string
  readonly process: WorkerProcess
  readonly startedAtMs: number
  /** The app it was launched with. */
  readonly app: string
  /** Set once the worker reported ready. */
  url: string | null
  /** Epoch ms at which its lease runs out unless renewed (null until ready). */
  leaseExpiresAt: number | null
  /** The worker's resident set size in bytes, as of its last heartbeat (null before the first). */
  rssBytes?: number | null
  /** Runs executing in the worker, as of its last heartbeat. */
  activeRuns: number
  /** Requests being proxied to it right now. */
  inflight: number
  /** Epoch ms of the last request or heartbeat with work: for least-recently-used eviction. */
  lastUsedMs: number
  /** The next wake time the worker reported when it hibernated. */
  reportedNextWakeAt: number | null | undefined
  /** Set while the worker is stopping; resolves once it exited. */
  stopping: Promise<void> | null
  /**
   * Set when the worker's engine refused the tenant's file (`APP_MISMATCH`,
   * `MIGRATION_MISMATCH`): the wake answers with it and the tenant fails with its message.
   */
  refusal?: { code: 'APP_MISMATCH' | 'MIGRATION_MISMATCH'; message: string }
  /** Set when the tenant is being deleted: the exit must not trigger a restart. */
  deleted: boolean
  /** Resolves when the worker announced itself ready. */
  readonly ready: Promise<void>
  readonly markReady: () => void
}
