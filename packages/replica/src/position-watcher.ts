import { performance } from 'node:perf_hooks'
import { parseUploadLine } from './litestream-upload.js'
import { ReplicaError, messageOf } from './replica-error.js'
import {
  type ReplicaPosition,
  comparePositions,
  formatPosition,
  isCovered,
  laterPosition,
} from './replica-position.js'
import { ReplicaProgress } from './replica-progress.js'
import type { ReplicaStore } from './replica-store.js'
import { type ShadowState, ShadowWal, locateCommit } from './shadow-wal.js'
import { type WalCommit, checkWalCommit, readLastCommit } from './wal-commit.js'

/** How long {@link PositionWatcher.waitFor} waits by default (then `STORAGE_UNAVAILABLE`). */
export const DEFAULT_CONFIRM_TIMEOUT_MS = 15_000
/** The fallback look of a waiting watcher never comes sooner than this. */
export const MIN_POLL_INTERVAL_MS = 1_000

/** What a {@link PositionWatcher} watches. */
export interface PositionWatcherOptions {
  /** Absolute path of the replicated database. */
  readonly dbPath: string
  /** The replica's store; the watcher closes it in {@link PositionWatcher.close}. */
  readonly store: ReplicaStore
  /** The replica's key prefix, ending in `/`. */
  readonly replicaKeyPrefix: string
  /** Fewest ms between two rounds of S3 requests: Litestream's sync interval. */
  readonly syncIntervalMs: number
  /** While someone waits and no upload is reported, look anyway this often (missed log lines). */
  readonly pollIntervalMs: number
}

/** Options of {@link PositionWatcher.waitFor}. */
export interface ConfirmOptions {
  /** @default DEFAULT_CONFIRM_TIMEOUT_MS */
  readonly timeoutMs?: number
  /** Stop waiting (rejects with the signal's reason). */
  readonly signal?: AbortSignal
  /**
   * Look as soon as Litestream reports an upload that may cover the commit, without
   * waiting out the one-round-per-sync-interval budget: for one-off waits (hibernation).
   * @default false
   */
  readonly urgent?: boolean
}

/** Counters of a {@link PositionWatcher}, for benchmarks and metrics. */
export interface PositionWatcherStats {
  /** Rounds of S3 requests (one listing, sometimes one read of the newest segment). */
  readonly rounds: number
  readonly listRequests: number
  readonly getRequests: number
  /** Waiters confirmed, and waiters that timed out. */
  readonly confirmed: number
  readonly timedOut: number
  /** Waiters waiting now. */
  readonly waiting: number
  /** The furthest position of the current generation seen in S3 (null: none yet). */
  readonly position: ReplicaPosition | null
}

interface Waiter {
  readonly commit: WalCommit
  readonly urgent: boolean
  target: ReplicaPosition | null
  settle(position: ReplicaPosition | null, err?: unknown): void
}

/**
 * Tells when commits are durably in the replica, for every waiter of one replicated
 * database at once. Each waiter's commit is located in Litestream's shadow WAL (generation,
 * index, offset); the replica's WAL segment objects in S3 say how far it is stored. All
 * waiters share one round of S3 requests (a listing of the generation's newest keys, and,
 * when Litestream's log did not say how long the newest segment is, a read of it), at most
 * one round per sync interval and none while nobody waits. A round is started when
 * Litestream's log reports an upload that may cover a waiter, or every `pollIntervalMs` in
 * case a log line was missed; a commit is confirmed only once the listing shows the object
 * that holds it. Never from time passing, a log line alone, or an exit code.
 */
export class PositionWatcher {
  readonly #opts: PositionWatcherOptions
  readonly #shadow: ShadowWal
  readonly #progress: ReplicaProgress
  readonly #waiters = new Set<Waiter>()
  #frontier: ReplicaPosition | null = null
  #claimed: ReplicaPosition | null = null
  #lastError: unknown
  #lastRoundAtMs = Number.NEGATIVE_INFINITY
  #waitingSinceMs = 0
  #round: Promise<void> | null = null
  #timer: NodeJS.Timeout | undefined
  #tickQueued = false
  #closed: ReplicaError | null = null
  #rounds = 0
  #confirmed = 0
  #timedOut = 0

  /**
   * The fallback look for a replica's intervals: two monitor + sync cycles, by when
   * Litestream has uploaded a commit unless something is wrong (see StallWatch).
   */
  static pollIntervalMs(syncIntervalMs: number, monitorIntervalMs: number): number {
    return Math.max(2 * (syncIntervalMs + monitorIntervalMs), MIN_POLL_INTERVAL_MS)
  }

  constructor(opts: PositionWatcherOptions) {
    this.#opts = opts
    this.#shadow = new ShadowWal(opts.dbPath)
    this.#progress = new ReplicaProgress(opts.store, opts.replicaKeyPrefix)
  }

  /**
   * Resolve with the commit's replica position once S3 holds it (restorable from the
   * replica's current generation). Rejects with `STORAGE_UNAVAILABLE` after `timeoutMs`
   * (the commit stays committed locally) or when the watcher is closed.
   */
  waitFor(commit: WalCommit, opts: ConfirmOptions = {}): Promise<ReplicaPosition> {
    checkWalCommit(commit)
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new TypeError(
        `Expected \`timeoutMs\` to be a number from 0 and up, got \`${timeoutMs}\` (${typeof timeoutMs})`,
      )
    }
    if (this.#closed) return Promise.reject(this.#closed)
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason)
    return new Promise((resolve, reject) => {
      const onAbort = (): void => waiter.settle(null, opts.signal?.reason)
      const timer = setTimeout(() => {
        this.#timedOut++
        waiter.settle(null, this.#notConfirmed(waiter, `not confirmed within ${timeoutMs} ms`))
      }, timeoutMs)
      const waiter: Waiter = {
        commit,
        urgent: opts.urgent ?? false,
        target: null,
        settle: (position, err) => {
          if (!this.#waiters.delete(waiter)) return
          clearTimeout(timer)
          opts.signal?.removeEventListener('abort', onAbort)
          if (position) {
            this.#confirmed++
            resolve(position)
          } else reject(err)
        },
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true })
      if (this.#waiters.size === 0) this.#waitingSinceMs = performance.now()
      this.#waiters.add(waiter)
      this.#queueTick()
    })
  }

  /** Feed every Litestream log line: a reported upload starts a round if it may help. */
  observe(line: string): void {
    const upload = parseUploadLine(line)
    if (!upload) return
    const claim = upload.end
    this.#claimed =
      this.#claimed?.generation === claim.generation ? laterPosition(this.#claimed, claim) : claim
    if (upload.kind === 'wal')
      this.#progress.noteUpload(upload.start, claim.offset - upload.start.offset)
    if (this.#waiters.size > 0) this.#queueTick()
  }

  /** Run one round now, whatever the budget, and wait for it (e.g. once Litestream exited). */
  async refresh(): Promise<void> {
    while (this.#round) await this.#round
    await this.#startRound()
  }

  stats(): PositionWatcherStats {
    const { list, get } = this.#opts.store.requests
    return {
      rounds: this.#rounds,
      listRequests: list,
      getRequests: get,
      confirmed: this.#confirmed,
      timedOut: this.#timedOut,
      waiting: this.#waiters.size,
      position: this.#frontier,
    }
  }

  /** Reject every waiter with `STORAGE_UNAVAILABLE` (`reason`), stop, and close the store. */
  close(reason: string): void {
    if (this.#closed) return
    this.#closed = new ReplicaError(
      'STORAGE_UNAVAILABLE',
      `confirm commits of ${this.#opts.dbPath}: ${reason}`,
    )
    clearTimeout(this.#timer)
    for (const waiter of [...this.#waiters]) waiter.settle(null, this.#notConfirmed(waiter, reason))
    this.#opts.store.close()
  }

  #queueTick(): void {
    if (this.#tickQueued || this.#closed) return
    this.#tickQueued = true
    setImmediate(() => this.#tick())
  }

  /** Locate waiters locally and decide when the next round is worth its requests. */
  #tick(): void {
    this.#tickQueued = false
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#closed || this.#waiters.size === 0 || this.#round) return
    this.#locate()
    let claimed: Waiter | undefined
    for (const waiter of this.#waiters) {
      if (waiter.target && isCovered(waiter.target, this.#claimed) && !claimed?.urgent)
        claimed = waiter
    }
    if (this.#waiters.size === 0) return
    const now = performance.now()
    const at = claimed
      ? claimed.urgent
        ? now
        : this.#lastRoundAtMs + this.#opts.syncIntervalMs
      : Math.max(this.#lastRoundAtMs, this.#waitingSinceMs) + this.#opts.pollIntervalMs
    if (at <= now) {
      void this.#startRound()
      return
    }
    this.#timer = setTimeout(() => this.#tick(), at - now)
  }

  /** Place every waiter in the current generation; settle those S3 is known to hold. */
  #locate(): void {
    let state: ShadowState | null
    try {
      state = this.#shadow.read()
    } catch (err) {
      // An unreadable shadow WAL places nobody this time; it must not break the timers.
      this.#lastError = err
      return
    }
    let current: string | null = null
    try {
      current = readLastCommit(this.#opts.dbPath).salt
    } catch {
      // No connection has the database open: only commits found in the shadow WAL are placed.
    }
    for (const waiter of this.#waiters) {
      if (!waiter.target || waiter.target.generation !== state?.generation) {
        waiter.target = locateCommit(state, current, waiter.commit)
      }
      if (waiter.target && isCovered(waiter.target, this.#frontier)) waiter.settle(waiter.target)
    }
  }

  #startRound(): Promise<void> {
    this.#round = this.#runRound().finally(() => {
      this.#round = null
      this.#queueTick()
    })
    return this.#round
  }

  async #runRound(): Promise<void> {
    this.#rounds++
    this.#lastRoundAtMs = performance.now()
    this.#locate()
    let need: ReplicaPosition | null = null
    for (const { target } of this.#waiters) {
      if (target && (!need || comparePositions(target, need) > 0)) need = target
    }
    if (!need) return
    try {
      const frontier = await this.#progress.frontier(need.generation, need)
      this.#lastError = undefined
      if (frontier) {
        this.#frontier =
          this.#frontier?.generation === frontier.generation
            ? laterPosition(this.#frontier, frontier)
            : frontier
      }
    } catch (err) {
      this.#lastError = err
      return
    }
    for (const waiter of this.#waiters) {
      if (waiter.target && isCovered(waiter.target, this.#frontier)) waiter.settle(waiter.target)
    }
  }

  #notConfirmed(waiter: Waiter, why: string): ReplicaError {
    const where = waiter.target
      ? `at ${formatPosition(waiter.target)}`
      : `${waiter.commit.salt}:${waiter.commit.offset} (not yet in the shadow WAL)`
    const held = this.#frontier ? formatPosition(this.#frontier) : 'nothing of this generation'
    const error =
      this.#lastError === undefined ? '' : `; last storage error: ${messageOf(this.#lastError)}`
    return new ReplicaError(
      'STORAGE_UNAVAILABLE',
      `confirm commit ${where} of ${this.#opts.dbPath}: ${why} (the replica holds ${held}${error})`,
      {
        cause: this.#lastError,
        hint: 'the commit is kept in the local database; check that the storage is reachable and that Litestream uploads (replicator logs())',
      },
    )
  }
}
