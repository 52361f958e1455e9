/**
 * The {@link Replicator} seam: what `replicate()` (replicate.ts, the entry point, as restore.ts
 * is for `restore()`) returns. Its implementation is the Litestream supervisor in
 * litestream-replicator.ts, as s3-replica-store.ts implements replica-store.ts.
 */
import type { ConfirmOptions, PositionWatcherStats } from './position-watcher.js'
import type { ReplicaPosition } from './replica-position.js'
import type { WalCommit } from './wal-commit.js'

/** Total time budget of {@link Replicator.stopVerified}: final sync plus verification. */
export const DEFAULT_STOP_VERIFIED_TIMEOUT_MS = 30_000

/** Result of a verified stop. */
export interface StopVerifiedResult {
  /** Epoch time (ms) at which the replica was proven to hold the last transaction. */
  readonly verifiedAtMs: number
  /** Litestream's exit code (null if it needed SIGKILL); informative only, never trusted. */
  readonly exitCode: number | null
  /** How long stopVerified took, final sync and proof included. */
  readonly durationMs: number
  /** Where that time went, in ms by phase, in order (for logs and benchmarks). */
  readonly phases: Readonly<Record<string, number>>
}

/** Result of a verified sync. */
export interface SyncVerifiedResult {
  /** Epoch time (ms) at which the replica was proven to hold the transactions before the call. */
  readonly verifiedAtMs: number
  /** How long the sync and its proof took. */
  readonly durationMs: number
}

/** A running, supervised `litestream replicate` for one database and one replica path. */
export interface Replicator {
  /** Pid of the current Litestream process; undefined between a crash and its restart. */
  readonly pid: number | undefined
  /** How many times the supervisor restarted Litestream after it died. */
  readonly restarts: number
  /**
   * Stop with a final sync and prove the replica holds the last committed transaction:
   * commit a random marker row into `_litecell_sync_marker`, SIGTERM Litestream (final
   * sync), wait for it, then restore the replica into a temp file and read the marker
   * back, whatever Litestream's exit code said. Throws `REPLICA_NOT_VERIFIED` on failure
   * and touches no local file but the marker row; the replicator is stopped either way.
   * Stop the app's writes first: only transactions committed before the call are covered.
   */
  stopVerified(opts?: { readonly timeoutMs?: number }): Promise<StopVerifiedResult>
  /**
   * Prove, without stopping, that the replica holds every transaction committed before the
   * call: commit a marker row, wait for Litestream's next upload, restore the replica into a
   * temp file and read the marker back (again after each further upload, until it is there or
   * `timeoutMs` runs out: `REPLICA_NOT_VERIFIED`). Calls run one at a time. A restore of the
   * replica as of any time after the proof holds those transactions (a fork "now").
   */
  syncVerified(opts?: { readonly timeoutMs?: number }): Promise<SyncVerifiedResult>
  /**
   * Stop without verification: SIGTERM (Litestream attempts a final sync), SIGKILL after
   * `timeoutMs`. When fencing, pass the time left on the lease, so that no upload can
   * happen after a successor may have started. @default 10 s
   */
  stop(opts?: { readonly timeoutMs?: number }): Promise<void>
  /**
   * Where the last commit in the database ends ({@link readLastCommit}): call it right after
   * your commit, on the same thread, and pass the answer to {@link Replicator.confirmed}.
   */
  lastCommit(): WalCommit
  /**
   * Resolve with the commit's position once the replica in S3 holds it (its WAL segment is
   * listed in the replica's current generation). All waiters share one position watcher:
   * at most one round of S3 requests per sync interval, none while nobody waits. Rejects
   * with `STORAGE_UNAVAILABLE` after `timeoutMs` (default 15 s; the commit stays committed
   * locally) or when the replicator stops first.
   */
  confirmed(commit: WalCommit, opts?: ConfirmOptions): Promise<ReplicaPosition>
  /** Counters of the position watcher: rounds, S3 requests, confirmations. */
  watcherStats(): PositionWatcherStats
  /** SIGKILL Litestream with no final sync and stop supervising (tests, crash drills). */
  kill(): void
  /** The most recent Litestream log lines (and supervisor notes, prefixed `[litecell]`). */
  logs(): string[]
}
