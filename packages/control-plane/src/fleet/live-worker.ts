import { EXIT_HIBERNATED } from '@litecell/protocol'
import type { RefusedReport } from '@litecell/protocol'
import { ControlPlaneError } from '../control-plane-error.js'
import type { WorkerExit, WorkerProcess } from '../launcher.js'
import { WorkerClient, type WorkerFetch } from './worker-client.js'

/** Added to a worker's own stop deadlines before the control plane kills it. */
export const STOP_GRACE_MS = 10_000

/**
 * How long the control plane lets a stopping worker take before it SIGKILLs it (its files are
 * kept): the worker's wait for runs, its verified sync, and a grace for the rest. No tenant
 * stays `stopping` longer (issue 9, item 8).
 */
export function stopDeadlineMs(stopTimeoutMs: number, syncTimeoutMs: number): number {
  return stopTimeoutMs + syncTimeoutMs + STOP_GRACE_MS
}

/** A live worker as code outside the fleet may see it. */
export interface WorkerView {
  readonly pid: number | undefined
  readonly epoch: number
  readonly startedAtMs: number
  /** Where it serves; null until it reported ready. */
  readonly url: string | null
  /** Its resident set size in bytes as of its last heartbeat; null before the first. */
  readonly rssBytes: number | null
}

/**
 * What the control plane knows, in memory, about one running worker: its identity (tenant,
 * lease epoch, secret, process) and the state the fleet's parts change through the methods
 * below (ready, lease renewed, load, requests in flight, stopping). Only the fleet's files
 * hold a `LiveWorker`; the rest of the control plane sees a {@link WorkerView}.
 */
export class LiveWorker {
  readonly tenantId: string
  /** The app it was launched with (the tenant's app at launch). */
  readonly app: string
  readonly epoch: number
  readonly process: WorkerProcess
  readonly startedAtMs: number
  /** SHA-256 of the worker's secret: callbacks prove themselves with the secret. */
  readonly secretHash: string
  readonly #secret: string
  readonly #fetch: WorkerFetch | undefined
  readonly #ready: Promise<void>
  #markReady!: () => void
  #client: WorkerClient | null = null
  #leaseExpiresAt: number | null = null
  #activeRuns = 0
  #rssBytes: number | null = null
  #inflight = 0
  #lastUsedMs: number
  #reportedNextWakeAt: number | null | undefined = undefined
  #stopping: Promise<void> | null = null
  #deleted = false
  #refusal: RefusedReport | null = null

  constructor(parts: {
    tenantId: string
    app: string
    epoch: number
    process: WorkerProcess
    startedAtMs: number
    secret: string
    secretHash: string
    fetch?: WorkerFetch
  }) {
    this.tenantId = parts.tenantId
    this.app = parts.app
    this.epoch = parts.epoch
    this.process = parts.process
    this.startedAtMs = parts.startedAtMs
    this.#secret = parts.secret
    this.secretHash = parts.secretHash
    this.#fetch = parts.fetch
    this.#lastUsedMs = parts.startedAtMs
    this.#ready = new Promise<void>((resolve) => (this.#markReady = resolve))
  }

  /** The worker's client, once it reported ready. */
  get client(): WorkerClient | null {
    return this.#client
  }

  /** Whether it reported ready (it has a client). */
  get wasReady(): boolean {
    return this.#client !== null
  }

  /** Resolves when the worker announced itself ready. */
  get ready(): Promise<void> {
    return this.#ready
  }

  get view(): WorkerView {
    const { pid } = this.process
    return {
      pid,
      epoch: this.epoch,
      startedAtMs: this.startedAtMs,
      url: this.#client?.url ?? null,
      rssBytes: this.#rssBytes,
    }
  }

  /** The worker serves at `url`. */
  markReady(url: string): void {
    this.#client = new WorkerClient({
      url,
      secret: this.#secret,
      ...(this.#fetch ? { fetch: this.#fetch } : {}),
    })
    this.#markReady()
  }

  /** Epoch ms at which its lease runs out unless renewed (null until ready, or once reaped). */
  get leaseExpiresAt(): number | null {
    return this.#leaseExpiresAt
  }

  leaseRenewed(expiresAt: number | null): void {
    this.#leaseExpiresAt = expiresAt
  }

  /** Runs executing in the worker, as of its last heartbeat. */
  get activeRuns(): number {
    return this.#activeRuns
  }

  /** Epoch ms of the last request or heartbeat with work: for least-recently-used eviction. */
  get lastUsedMs(): number {
    return this.#lastUsedMs
  }

  /** A heartbeat's load report. */
  reportLoad(activeRuns: number, nowMs: number, rssBytes?: number): void {
    if (activeRuns > 0) this.#lastUsedMs = nowMs
    this.#activeRuns = activeRuns
    if (rssBytes !== undefined) this.#rssBytes = rssBytes
  }

  /** Requests being proxied to it right now (an idle worker is not stopped under them). */
  get inflight(): number {
    return this.#inflight
  }

  beginRequest(nowMs: number): void {
    this.#inflight += 1
    this.#lastUsedMs = nowMs
  }

  endRequest(nowMs: number): void {
    this.#inflight -= 1
    this.#lastUsedMs = nowMs
  }

  /** The next wake time the worker reported when it hibernated (undefined: no report). */
  get reportedNextWakeAt(): number | null | undefined {
    return this.#reportedNextWakeAt
  }

  reportHibernated(nextWakeAt: number | null): void {
    this.#reportedNextWakeAt = nextWakeAt
  }

  /** Set while the worker is stopping; resolves once it exited after a verified hibernation. */
  get stopping(): Promise<void> | null {
    return this.#stopping
  }

  /**
   * Marks the worker stopping (once): resolves like {@link hibernation}. A worker still there
   * `deadlineMs` later is SIGKILLed (its files stay; its exit counts as a crash).
   */
  beginStop(stop: Promise<void>, deadlineMs: number): Promise<void> {
    if (this.#stopping) return this.#stopping
    const overdue = setTimeout(() => this.process.kill('SIGKILL'), deadlineMs)
    void this.process.exited.then(() => clearTimeout(overdue))
    this.#stopping = stop
    this.#stopping.catch(() => undefined) // reported to whoever awaits it; the exit handler restarts
    return this.#stopping
  }

  /**
   * Why it said it cannot serve the tenant, if it did: its engine refused the tenant's file
   * (`APP_MISMATCH`, `MIGRATION_MISMATCH`) or its app does not load (`APP_LOAD_FAILED`). The
   * wake answers with it and the tenant fails with its message.
   */
  get refusal(): RefusedReport | null {
    return this.#refusal
  }

  reportRefused(report: RefusedReport): void {
    this.#refusal = report
  }

  /** The tenant is being deleted: the exit must not trigger a restart. */
  get deleted(): boolean {
    return this.#deleted
  }

  markDeleted(): void {
    this.#deleted = true
  }

  /** Whether the worker reported a verified, finished hibernation. */
  get hasReportedHibernation(): boolean {
    return this.#reportedNextWakeAt !== undefined
  }

  /**
   * Resolves when the worker exits after a verified hibernation (exit 0 *and* its `hibernated`
   * report: an app's `process.exit(0)` exits 0 too); rejects on any other exit.
   */
  async hibernation(): Promise<void> {
    const exit: WorkerExit = await this.process.exited
    if (exit.code === EXIT_HIBERNATED && this.hasReportedHibernation) return
    throw new ControlPlaneError(
      'WORKER_UNAVAILABLE',
      `hibernate tenant ${this.tenantId}: the worker could not verify its replica (exit ${exit.code ?? exit.signal}); its local files are kept and it will be restarted; see logs/${this.tenantId}.log`,
    )
  }
}
