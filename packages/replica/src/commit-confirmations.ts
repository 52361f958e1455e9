import { DEFAULT_CONFIRM_TIMEOUT_MS } from './position-watcher.js'
import type { ReplicaPosition } from './replica-position.js'
import type { Replicator } from './replicator.js'

/** Options of {@link CommitConfirmations.confirmCommitted}. */
export interface ConfirmCommittedOptions {
  /** Rejects with `STORAGE_UNAVAILABLE` past this. @default DEFAULT_CONFIRM_TIMEOUT_MS (15 s) */
  readonly timeoutMs?: number
  /** Stop waiting (rejects with the signal's reason); the others of its group wait on. */
  readonly signal?: AbortSignal
}

interface Group {
  readonly timeoutMs: number
  readonly promise: Promise<ReplicaPosition>
}

/**
 * "Is everything I committed so far in S3?" for many callers at once, at the cost of one
 * position waiter per turn of the event loop: callers of one turn join one group, which reads
 * the database's last commit when the turn ends (a commit at or after each caller's own, since
 * every caller's commit came first on this thread) and waits for it with
 * {@link Replicator.confirmed}. A confirmed later commit covers every earlier one: the replica
 * is a prefix of the WAL stream. So 2,000 acknowledgements of one burst cost one read of the
 * wal-index and one waiter, and the watcher's rounds are shared on top of that.
 *
 * Used for replicated acknowledgements (the worker) and the registry's changes (the control
 * plane). Call it on the thread that committed, after the commit returned.
 *
 * @example
 * const confirmations = new CommitConfirmations(replicator)
 * db.prepare('INSERT INTO orders …').run()
 * await confirmations.confirmCommitted({ timeoutMs: 15_000 }) // now in S3
 */
export class CommitConfirmations {
  readonly #replicator: Pick<Replicator, 'lastCommit' | 'confirmed'>
  readonly #open = new Map<number, Group>()
  #groups = 0

  constructor(replicator: Pick<Replicator, 'lastCommit' | 'confirmed'>) {
    this.#replicator = replicator
  }

  /** Groups formed so far (one waiter each): a benchmark's figure. */
  get groups(): number {
    return this.#groups
  }

  /**
   * Resolves once every transaction committed on this thread before the call is in the
   * replica (with the position confirmed). Rejects with `STORAGE_UNAVAILABLE` after
   * `timeoutMs` (the commits stay committed locally) or when the replicator stops.
   */
  confirmCommitted(opts: ConfirmCommittedOptions = {}): Promise<ReplicaPosition> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new TypeError(
        `Expected \`timeoutMs\` to be a number from 0 and up, got \`${timeoutMs}\` (${typeof timeoutMs})`,
      )
    }
    const group = this.#open.get(timeoutMs) ?? this.#openGroup(timeoutMs)
    const { signal } = opts
    if (!signal) return group.promise
    if (signal.aborted) return Promise.reject(signal.reason)
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      group.promise
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  #openGroup(timeoutMs: number): Group {
    let seal!: () => void
    const sealed = new Promise<void>((resolve) => (seal = resolve))
    const promise = sealed.then(() => {
      // Read at the end of the turn: at or after the commit of every caller that joined.
      const commit = this.#replicator.lastCommit()
      return this.#replicator.confirmed(commit, { timeoutMs })
    })
    // A group nobody listens to any more (every caller aborted) must not be unhandled.
    promise.catch(() => undefined)
    const group = { timeoutMs, promise }
    this.#open.set(timeoutMs, group)
    this.#groups++
    setImmediate(() => {
      this.#open.delete(timeoutMs)
      seal()
    })
    return group
  }
}
