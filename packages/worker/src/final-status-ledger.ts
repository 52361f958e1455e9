import type { RunStatus } from '@litecell/engine'

/** How long the ledger waits before asking again after a confirmation failed (storage down). */
export const CONFIRM_RETRY_MS = 1_000

const FINAL = new Set<string>(['succeeded', 'failed', 'cancelled'])

/**
 * Whether `status` is a run's end (`succeeded`, `failed`, `cancelled`): what a replicated
 * tenant's views show only once confirmed in S3.
 */
export function isFinalStatus(status: string): boolean {
  return FINAL.has(status)
}

/** What a run view must have for {@link FinalStatusLedger.mask}. */
export interface MaskableRun {
  runId: string
  status: RunStatus
  output?: unknown
  error?: unknown
}

/** Options of a {@link FinalStatusLedger}. */
export interface FinalStatusLedgerOptions {
  /**
   * Resolves once everything committed before the call is in the replica; rejects if that is
   * not confirmed in time (the ledger asks again after {@link CONFIRM_RETRY_MS}).
   */
  readonly confirmCommitted: () => Promise<unknown>
  /** A final status became confirmed (replicated run streams publish it now). */
  readonly onConfirmed?: (runId: string, workflow: string, status: RunStatus) => void
  /**
   * Whether the ledger follows final statuses from the start. A worker's ledger does not
   * until its tenant shows it is replicated ({@link FinalStatusLedger.follow}): confirming
   * every run's end costs a local tenant disk reads per run and S3 listings it never needs.
   * @default true
   */
  readonly following?: boolean
}

interface Entry {
  readonly workflow: string
  readonly status: RunStatus
  readonly before: RunStatus
  readonly confirmed: Promise<void>
  resolve(): void
}

/**
 * Which final run statuses (`succeeded`, `failed`, `cancelled`) are confirmed in the replica
 * (issue 11): a replicated tenant shows a final status, and the output with it, only once a
 * machine loss can no longer take it back. Until then its views show the status the run had
 * before (`running` for a run that ended by itself).
 *
 * The engine reports each status change after its commit; the ledger then asks for a
 * confirmation of everything committed so far (shared per turn of the event loop by the
 * replica's `CommitConfirmations`), which covers that status. Runs the ledger never saw end
 * ended before this worker started: restored from S3, they are in S3. Only a worker that
 * started from a local file a crash left behind (which S3 may lack) must first confirm that
 * file's last commit ({@link hold}); until then no final status shows. A ledger that does not
 * follow yet (a local tenant) asks nothing; see {@link follow}.
 */
export class FinalStatusLedger {
  readonly #options: FinalStatusLedgerOptions
  readonly #unconfirmed = new Map<string, Entry>()
  /** The last unfinished status each run had here: the status to show before its end is safe. */
  readonly #lastOpen = new Map<string, RunStatus>()
  #held: Promise<void> | null = null
  #closed = false
  #following: boolean
  /** A run ended while the ledger did not follow: its end may not be in S3 yet. */
  #missedFinal = false

  constructor(options: FinalStatusLedgerOptions) {
    this.#options = options
    this.#following = options.following ?? true
  }

  /**
   * The tenant is replicated (a request said so): from now on every final status waits for
   * its confirmation. If runs ended before, while the ledger did not follow, every final
   * status is hidden until everything committed so far is confirmed ({@link hold}).
   */
  follow(): void {
    if (this.#following) return
    this.#following = true
    if (this.#missedFinal) this.hold()
  }

  /** Final statuses waiting for their confirmation. */
  get pending(): number {
    return this.#unconfirmed.size
  }

  /**
   * Hides every final status until everything committed so far is confirmed: the worker
   * opened a file whose last commits S3 may lack. Asks until the answer is yes.
   */
  hold(): void {
    this.#following = true
    const held = this.#confirmEventually().then(() => {
      if (this.#held === held) this.#held = null
    })
    this.#held = held
  }

  /** Feed every run-status change the engine reports (after its commit). */
  observe(runId: string, workflow: string, status: RunStatus): void {
    if (!this.#following) {
      if (isFinalStatus(status)) this.#missedFinal = true
      return
    }
    if (!isFinalStatus(status)) {
      this.#lastOpen.set(runId, status)
      // Resumed before its end was confirmed: the end it had is no longer its status.
      this.#unconfirmed.get(runId)?.resolve()
      this.#unconfirmed.delete(runId)
      return
    }
    this.#unconfirmed.get(runId)?.resolve()
    let resolve!: () => void
    const confirmed = new Promise<void>((done) => (resolve = done))
    const entry: Entry = {
      workflow,
      status,
      before: this.#lastOpen.get(runId) ?? 'running',
      confirmed,
      resolve,
    }
    this.#unconfirmed.set(runId, entry)
    this.#watch(runId, entry)
  }

  /** Whether a run's view may show `status` as it is (always, for an unfinished status). */
  isConfirmed(runId: string, status: RunStatus): boolean {
    if (!isFinalStatus(status)) return true
    return this.#held === null && !this.#unconfirmed.has(runId)
  }

  /** Resolves once the run's final status is confirmed (at once if nothing is pending). */
  confirmation(runId: string): Promise<void> {
    const entry = this.#unconfirmed.get(runId)
    if (entry) return entry.confirmed
    return this.#held ?? Promise.resolve()
  }

  /**
   * The view as a replicated tenant may show it: an unconfirmed final status becomes the
   * status before it, without output or error. Returns the same object when nothing is hidden.
   */
  mask<T extends MaskableRun>(view: T): T {
    if (this.isConfirmed(view.runId, view.status)) return view
    const before = this.#unconfirmed.get(view.runId)?.before ?? this.#lastOpen.get(view.runId)
    const masked: T = { ...view, status: before ?? 'running' }
    if ('output' in view) masked.output = null
    if ('error' in view) masked.error = null
    return masked
  }

  /** Stops asking (the worker is stopping); pending confirmations stay pending. */
  close(): void {
    this.#closed = true
  }

  async #confirmEventually(): Promise<void> {
    for (;;) {
      try {
        await this.#options.confirmCommitted()
        return
      } catch {
        await new Promise((resolve) => setTimeout(resolve, CONFIRM_RETRY_MS).unref())
      }
    }
  }

  #watch(runId: string, entry: Entry): void {
    if (this.#closed) return
    this.#options.confirmCommitted().then(
      () => {
        if (this.#unconfirmed.get(runId) !== entry) return
        this.#unconfirmed.delete(runId)
        this.#lastOpen.delete(runId)
        // A later commit is confirmed: so is the file the worker started from.
        this.#held = null
        entry.resolve()
        this.#options.onConfirmed?.(runId, entry.workflow, entry.status)
      },
      () => {
        const retry = setTimeout(() => {
          if (this.#unconfirmed.get(runId) === entry) this.#watch(runId, entry)
        }, CONFIRM_RETRY_MS)
        retry.unref()
      },
    )
  }
}
