import { describeProcess, replicatorsOf } from './processes.js'

/** How often a {@link ReplicatorWatch} looks. */
export const REPLICATOR_SAMPLE_MS = 20

/**
 * Watches, every {@link REPLICATOR_SAMPLE_MS}, the Litestream processes replicating a
 * database under `dir` (from /proc): the most seen at once (the one-writer invariant says
 * never two), which they were, and when one was last seen alive. Every test that kills a
 * worker runs one over its tenants, so a successor's Litestream overlapping a dying one's
 * shows even where the test's own assertions would not look.
 */
export class ReplicatorWatch {
  readonly #dir: string
  readonly #timer: NodeJS.Timeout
  #most = 0
  #together: string[] = []
  #lastSeenMs: number | null = null

  constructor(dir: string) {
    this.#dir = dir
    this.#timer = setInterval(() => this.sample(), REPLICATOR_SAMPLE_MS)
  }

  /** Looks once now (the timer does it too); returns the pids seen. */
  sample(): number[] {
    const pids = replicatorsOf(this.#dir)
    if (pids.length > 0) this.#lastSeenMs = Date.now()
    if (pids.length > this.#most) {
      this.#most = pids.length
      this.#together = pids.map((pid) => `${pid} (${describeProcess(pid)})`)
    }
    return pids
  }

  /** The most replicators seen at once so far. */
  get most(): number {
    return this.#most
  }

  /** The replicators of the sample that saw the most, described for a failure message. */
  get together(): string {
    return this.#together.join(', ')
  }

  /** Epoch ms of the last sample that saw a replicator alive; null if none ever. */
  get lastSeenMs(): number | null {
    return this.#lastSeenMs
  }

  stop(): void {
    clearInterval(this.#timer)
  }
}
