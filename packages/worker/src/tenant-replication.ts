import type { RunStatus } from '@litecell/engine'
import { DEFAULT_REPLICATION_ACK_TIMEOUT_MS } from '@litecell/protocol'
import {
  CommitConfirmations,
  type ConfirmCommittedOptions,
  type Replicator,
} from '@litecell/replica'
import { FinalStatusLedger } from './final-status-ledger.js'
import type { Replication } from './replicated-ack.js'
import type { RunStatusStream } from './run-stream.js'

/** Options of a {@link TenantReplication}. */
export interface TenantReplicationOptions {
  /** @default DEFAULT_REPLICATION_ACK_TIMEOUT_MS (15 s) */
  readonly ackTimeoutMs?: number
  /** Replicated subscribers get final statuses from here once confirmed. */
  readonly runStream?: RunStatusStream
  /**
   * The tenant's file was kept from a crash on this machine (not restored from S3): hide every
   * final status until its last commit is confirmed in S3.
   */
  readonly startedFromLocalFile?: boolean
}

/**
 * What one worker knows about its tenant's replica, for acknowledgements (issue 11): the
 * replicator's shared confirmations ({@link CommitConfirmations}), the ledger of final
 * statuses not yet in S3, and the engine's output-gate hook. The engine opens (and may run)
 * before Litestream starts: everything here waits for {@link attach}.
 */
export class TenantReplication {
  readonly finals: FinalStatusLedger
  readonly #ackTimeoutMs: number
  readonly #confirmations: Promise<CommitConfirmations>
  #attach!: (confirmations: CommitConfirmations) => void

  constructor(options: TenantReplicationOptions = {}) {
    this.#ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_REPLICATION_ACK_TIMEOUT_MS
    this.#confirmations = new Promise((resolve) => (this.#attach = resolve))
    const { runStream } = options
    this.finals = new FinalStatusLedger({
      // Until a request says the tenant is replicated (replicatedAcks calls `follow`).
      following: false,
      confirmCommitted: () => this.confirmCommitted(),
      ...(runStream
        ? { onConfirmed: (runId, workflow, status) => runStream.publishConfirmed(runId, workflow, status) }
        : {}),
    })
    if (options.startedFromLocalFile) this.finals.hold()
  }

  /** Litestream replicates the tenant's file now. */
  attach(replicator: Replicator): void {
    this.#attach(new CommitConfirmations(replicator))
  }

  /**
   * Resolves once everything committed on this thread before the call is confirmed in S3;
   * `STORAGE_UNAVAILABLE` after the acknowledgement timeout. Shared per event-loop turn.
   */
  async confirmCommitted(opts: ConfirmCommittedOptions = {}): Promise<void> {
    const confirmations = await this.#confirmations
    await confirmations.confirmCommitted({ timeoutMs: this.#ackTimeoutMs, ...opts })
  }

  /** The engine's `confirmDurable` (the output gate of `ctx.step(…, { gate: 'replicated' })`). */
  readonly confirmDurable = (signal: AbortSignal): Promise<void> =>
    this.confirmCommitted({ signal })

  /** Feed the engine's `onRunStatus`. */
  observe(runId: string, workflow: string, status: RunStatus): void {
    this.finals.observe(runId, workflow, status)
  }

  /** What the tenant API needs for replicated acknowledgements. */
  get replication(): Replication {
    return { confirmCommitted: () => this.confirmCommitted(), ledger: this.finals }
  }

  /** The worker is stopping: stop asking about final statuses. */
  close(): void {
    this.finals.close()
  }
}
