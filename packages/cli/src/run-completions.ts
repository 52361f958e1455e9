import {
  MAX_STATUS_RUN_IDS,
  isBusy,
  isFinished,
  isLitecellError,
  retrying,
  waitForRun,
  type LitecellClient,
  type RunStatus,
} from '@litecell/client'
import { CliError, EXIT_CODES } from './cli-error.js'

/** Run ids per status request: the most `POST …/runs/status` takes. */
export const QUERY_SLICE_RUNS = MAX_STATUS_RUN_IDS
/** Oldest pending runs checked per poll (runs mostly end in the order they started). */
export const QUERY_WINDOW_RUNS = 5_000
/** Pause between status polls: short while runs are ending, backing off while none do. */
export const MIN_POLL_MS = 200
export const MAX_POLL_MS = 2_000
/** Runs long-polled at once in the fallback mode. */
export const LONG_POLL_CONCURRENCY = 16
/** Long-poll per request in the fallback mode: short, so progress stays fresh. */
export const LONG_POLL_WAIT_MS = 10_000

/** A run that ended. */
export interface EndedRun {
  readonly runId: string
  readonly status: RunStatus
}

/**
 * Waits for many runs of one tenant; ids are added as a batch submits them and `onEnd` sees
 * each run once, when it has ended. It asks in bulk through the bulk status route
 * (`POST …/runs/status`, 1,000 runs per request, where the result route answers for one); a
 * server without that route (404 `NOT_FOUND`) is waited for by long-polling each run's result
 * instead. A run the server does not know (deleted meanwhile) and the first other error stop
 * the waiting and reject {@link drained}.
 */
export class RunCompletions {
  readonly #client: LitecellClient
  readonly #tenantId: string
  readonly #onEnd: (run: EndedRun) => void
  /** Insertion-ordered, so the first entries are the oldest runs still pending. */
  readonly #pending = new Set<string>()
  readonly #inFlight = new Set<string>()
  #closed = false
  #error: unknown
  #signals: (() => void)[] = []
  readonly #done: Promise<void>

  constructor(
    client: LitecellClient,
    tenantId: string,
    options: { readonly onEnd: (run: EndedRun) => void },
  ) {
    this.#client = client
    this.#tenantId = tenantId
    this.#onEnd = options.onEnd
    this.#done = this.#queryLoop()
  }

  /** Runs added and not yet ended. */
  get pending(): number {
    return this.#pending.size
  }

  /** Queues runs to wait for. */
  add(runIds: readonly string[]): void {
    for (const runId of runIds) this.#pending.add(runId)
    this.#signal()
  }

  /** Throws the error that stopped the waiting, if any. */
  throwIfFailed(): void {
    if (this.#error) throw this.#error
  }

  /** Resolves once every added run has ended; no more may be added. */
  async drained(): Promise<void> {
    this.#closed = true
    this.#signal()
    await this.#done
    this.throwIfFailed()
  }

  /** Stops waiting (after an error elsewhere). */
  abandon(): void {
    this.#closed = true
    this.#pending.clear()
    this.#signal()
  }

  async #queryLoop(): Promise<void> {
    let pauseMs = MIN_POLL_MS
    for (;;) {
      if (this.#error) return
      if (this.#pending.size === 0) {
        if (this.#closed) return
        await this.#nextSignal()
        continue
      }
      let ended: number
      try {
        ended = await this.#pollEnded()
      } catch (err) {
        if (isLitecellError(err) && err.code === 'NOT_FOUND') return this.#longPollAll()
        this.#error ??= err
        return
      }
      pauseMs = ended > 0 ? MIN_POLL_MS : Math.min(pauseMs * 2, MAX_POLL_MS)
      await new Promise((resolve) => setTimeout(resolve, pauseMs))
    }
  }

  /** One poll over the oldest pending runs; returns how many had ended. */
  async #pollEnded(): Promise<number> {
    const window: string[] = []
    for (const runId of this.#pending) {
      window.push(runId)
      if (window.length >= QUERY_WINDOW_RUNS) break
    }
    let ended = 0
    for (let start = 0; start < window.length; start += QUERY_SLICE_RUNS) {
      const slice = window.slice(start, start + QUERY_SLICE_RUNS)
      const statuses = await retrying(() => this.#client.runStatuses(this.#tenantId, slice), {
        forMs: 10_000,
        initialDelayMs: 250,
        maxDelayMs: 1_000,
        isRetryable: isBusy,
      })
      for (const entry of statuses) {
        if (entry.status === null) {
          throw new CliError(
            'RUN_NOT_FOUND',
            `wait for run ${entry.runId} of tenant ${this.#tenantId}: the server no longer knows it (deleted by retention?)`,
            { exitCode: EXIT_CODES.NOT_FOUND },
          )
        }
        if (isFinished(entry.status)) ended += this.#ended(entry.runId, entry.status)
      }
    }
    return ended
  }

  async #longPollAll(): Promise<void> {
    const loops = Array.from({ length: LONG_POLL_CONCURRENCY }, () => this.#longPollLoop())
    await Promise.all(loops)
  }

  async #longPollLoop(): Promise<void> {
    for (;;) {
      if (this.#error) return
      const runId = this.#idlePending()
      if (runId === undefined) {
        if (this.#closed && this.#pending.size === 0) return
        await this.#nextSignal()
        continue
      }
      this.#inFlight.add(runId)
      try {
        const { run } = await waitForRun(this.#client, this.#tenantId, runId, {
          pollMs: LONG_POLL_WAIT_MS,
        })
        this.#ended(run.runId, run.status)
      } catch (err) {
        this.#error ??= err
        return
      } finally {
        this.#inFlight.delete(runId)
        this.#signal()
      }
    }
  }

  #idlePending(): string | undefined {
    for (const runId of this.#pending) if (!this.#inFlight.has(runId)) return runId
    return undefined
  }

  #ended(runId: string, status: RunStatus): number {
    if (!this.#pending.delete(runId)) return 0
    this.#onEnd({ runId, status })
    return 1
  }

  #nextSignal(): Promise<void> {
    return new Promise((resolve) => this.#signals.push(resolve))
  }

  #signal(): void {
    const signals = this.#signals
    this.#signals = []
    for (const resolve of signals) resolve()
  }
}
