import { describeProcess, replicatorsByReplica } from './processes.js'

/** How often a {@link ReplicatorWatch} looks, unless told otherwise. */
export const REPLICATOR_SAMPLE_MS = 20

/**
 * Watches the Litestream processes replicating the databases under `dir` (from /proc, every
 * {@link REPLICATOR_SAMPLE_MS} by default): the most seen at once on one replica, that is one
 * tenant (the one-writer invariant says never two), the most seen at once in all, which they
 * were, and when one was last seen alive. Every test that kills a worker runs one over its
 * tenants, so a successor's Litestream overlapping a dying one's shows even where the test's
 * own assertions would not look. `dir` may be one tenant's folder or the folder of all tenants.
 */
export class ReplicatorWatch {
  readonly #dir: string
  readonly #timer: NodeJS.Timeout
  #most = 0
  #together: string[] = []
  #mostOnOne = 0
  #crowded: string[] = []
  #lastSeenMs: number | null = null

  /**
   * @param options.intervalMs how often to look (one look reads every process's command line,
   * a few ms of CPU): longer where the test measures latency. @default REPLICATOR_SAMPLE_MS
   */
  constructor(dir: string, options: { readonly intervalMs?: number } = {}) {
    this.#dir = dir
    this.#timer = setInterval(() => this.sample(), options.intervalMs ?? REPLICATOR_SAMPLE_MS)
    // A test that fails before its `stop()` must not keep its worker alive.
    this.#timer.unref()
  }

  /** Looks once now (the timer does it too); returns the pids seen, over every replica. */
  sample(): number[] {
    const byReplica = replicatorsByReplica(this.#dir)
    const pids = [...byReplica.values()].flat()
    if (pids.length > 0) this.#lastSeenMs = Date.now()
    if (pids.length > this.#most) {
      this.#most = pids.length
      this.#together = pids.map(describe)
    }
    for (const [replica, onOne] of byReplica) {
      if (onOne.length <= this.#mostOnOne) continue
      this.#mostOnOne = onOne.length
      this.#crowded = [replica, ...onOne.map(describe)]
    }
    return pids
  }

  /** The most replicators seen at once so far, over every database under the folder. */
  get most(): number {
    return this.#most
  }

  /** The replicators of the sample that saw the most, described for a failure message. */
  get together(): string {
    return this.#together.join(', ')
  }

  /** The most replicators seen at once on one replica so far: more than 1 breaks invariant 1. */
  get mostOnOneReplica(): number {
    return this.#mostOnOne
  }

  /** The replica and replicators of the sample that saw {@link mostOnOneReplica}, for a failure message. */
  get crowded(): string {
    const [replica, ...pids] = this.#crowded
    return replica === undefined ? 'none' : `${replica}: ${pids.join(', ')}`
  }

  /** Epoch ms of the last sample that saw a replicator alive; null if none ever. */
  get lastSeenMs(): number | null {
    return this.#lastSeenMs
  }

  stop(): void {
    clearInterval(this.#timer)
  }
}

function describe(pid: number): string {
  return `${pid} (${describeProcess(pid)})`
}
