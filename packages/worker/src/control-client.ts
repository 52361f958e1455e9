import {
  CALLBACK_BASE_PATH,
  callbackPath,
  errorOf,
  type HeartbeatReport,
  type IdleAnswer,
  type LeaseAnswer,
  type MetricsDelta,
  type ReadyReport,
  type RefusedReport,
  type RefusedCode,
  MAX_REFUSAL_MESSAGE_LENGTH,
  type WorkerCallback,
} from '@litecell/protocol'
import { WorkerError } from './worker-error.js'

/** Longest one call to the control plane may take; a heartbeat must never hang. */
export const CONTROL_CALL_TIMEOUT_MS = 3_000

/** What the worker reports about itself on each heartbeat. */
export type WorkerStatus = HeartbeatReport

/** Options of a {@link ControlClient}. */
export interface ControlClientOptions {
  readonly baseUrl: string
  readonly tenantId: string
  readonly epoch: number
  readonly secret: string
  /** How requests are sent; in-process tests pass the control plane's `app.request`. */
  readonly fetch?: (url: string, init: RequestInit) => Promise<Response>
}

/**
 * The worker's side of the lease protocol (the control plane's side is its `WorkerClient`):
 * every call names the tenant and the lease epoch and carries the worker secret, so a stale
 * worker (older epoch) is told `LEASE_LOST`.
 */
export class ControlClient {
  readonly #baseUrl: string
  readonly #tenantId: string
  readonly #epoch: number
  readonly #secret: string
  readonly #fetch: (url: string, init: RequestInit) => Promise<Response>

  constructor(options: ControlClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/$/, '')
    this.#tenantId = options.tenantId
    this.#epoch = options.epoch
    this.#secret = options.secret
    this.#fetch = options.fetch ?? fetch
  }

  /**
   * Announces that the worker serves requests at `url`. `quarantinedRuns` counts the runs the
   * engine quarantined when it opened: the worker deaths that led there were those runs'
   * doing, so the control plane stops counting them against the tenant.
   */
  async ready(url: string, pid: number, quarantinedRuns = 0): Promise<LeaseAnswer> {
    const report: ReadyReport = { url, pid, quarantinedRuns }
    return (await this.#call('ready', report)) as LeaseAnswer
  }

  /** Renews the lease. Throws `LEASE_LOST` when the control plane gave it to someone else. */
  async heartbeat(status: WorkerStatus): Promise<LeaseAnswer> {
    return (await this.#call('heartbeat', status)) as LeaseAnswer
  }

  /** Asks to hibernate while idle; the control plane says no if requests are in flight. */
  async requestIdleStop(): Promise<boolean> {
    const answer = (await this.#call('idle', {})) as IdleAnswer
    return answer.hibernate === true
  }

  /**
   * Reports that the worker cannot serve the tenant: the engine refused to open its file
   * (`APP_MISMATCH`, `MIGRATION_MISMATCH`) or the app module does not load (`APP_LOAD_FAILED`).
   * The control plane answers the wake with this error and marks the tenant failed with it,
   * without counting a crash. The worker exits next.
   */
  async refused(code: RefusedCode, message: string): Promise<void> {
    const report: RefusedReport = { code, message: message.slice(0, MAX_REFUSAL_MESSAGE_LENGTH) }
    await this.#call('refused', report)
  }

  /** Reports a verified, finished hibernation (local files already removed). */
  async hibernated(nextWakeAt: number | null, metrics: MetricsDelta): Promise<void> {
    await this.#call('hibernated', { nextWakeAt, metrics })
  }

  async #call(callback: WorkerCallback, body: object): Promise<unknown> {
    const doing = `${callback} tenant ${this.#tenantId}`
    let response: Response
    try {
      response = await this.#fetch(
        `${this.#baseUrl}${CALLBACK_BASE_PATH}${callbackPath(callback)}`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${this.#secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ tenantId: this.#tenantId, epoch: this.#epoch, ...body }),
          signal: AbortSignal.timeout(CONTROL_CALL_TIMEOUT_MS),
        },
      )
    } catch (err) {
      throw new WorkerError(
        'CONTROL_PLANE_UNREACHABLE',
        `${doing}: control plane unreachable at ${this.#baseUrl}`,
        { cause: err },
      )
    }
    const payload: unknown = await response.json().catch(() => ({}))
    const error = errorOf(payload)
    if (error?.code === 'LEASE_LOST') {
      throw new WorkerError('LEASE_LOST', `${doing}: lease epoch ${this.#epoch} lost`)
    }
    if (!response.ok) {
      throw new WorkerError(
        'CONTROL_PLANE_REFUSED',
        `${doing}: control plane answered ${response.status} ${error?.message ?? ''}`.trim(),
      )
    }
    return payload
  }
}
