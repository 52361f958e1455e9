import { WorkerError } from './worker-error.js'
import type { MetricsDelta } from './worker-metrics.js'

/** Longest one call to the control plane may take; a heartbeat must never hang. */
export const CONTROL_CALL_TIMEOUT_MS = 3_000

/** What the worker reports about itself on each heartbeat. */
export interface WorkerStatus {
  readonly activeRuns: number
  /** Epoch ms of the next durable timer, or null. */
  readonly nextWakeAt: number | null
  /** Metrics since the previous heartbeat. */
  readonly metrics?: MetricsDelta
  /** The worker process's resident set size, in bytes (the dashboard shows it). */
  readonly rssBytes?: number
}

/**
 * The worker's side of the lease protocol: every call names the tenant and the lease epoch
 * and carries the worker secret, so a stale worker (older epoch) is told it lost its lease.
 */
export class ControlClient {
  readonly #baseUrl: string
  readonly #tenantId: string
  readonly #epoch: number
  readonly #secret: string

  constructor(options: { baseUrl: string; tenantId: string; epoch: number; secret: string }) {
    this.#baseUrl = options.baseUrl.replace(/\/$/, '')
    this.#tenantId = options.tenantId
    this.#epoch = options.epoch
    this.#secret = options.secret
  }

  /**
   * Announces that the worker serves requests at `url`. `quarantinedRuns` counts the runs the
   * engine quarantined when it opened: the worker deaths that led there were those runs'
   * doing, so the control plane stops counting them against the tenant.
   */
  async ready(url: string, pid: number, quarantinedRuns = 0): Promise<{ leaseExpiresAt: number }> {
    return (await this.#call('ready', { url, pid, quarantinedRuns })) as { leaseExpiresAt: number }
  }

  /** Renews the lease. Throws `LEASE_LOST` when the control plane gave it to someone else. */
  async heartbeat(status: WorkerStatus): Promise<{ leaseExpiresAt: number }> {
    return (await this.#call('heartbeat', status)) as { leaseExpiresAt: number }
  }

  /** Asks to hibernate while idle; the control plane says no if requests are in flight. */
  async requestIdleStop(): Promise<boolean> {
    const answer = (await this.#call('idle', {})) as { hibernate: boolean }
    return answer.hibernate === true
  }

  /**
   * Reports that the engine refused to open the tenant's file (`APP_MISMATCH`,
   * `MIGRATION_MISMATCH`): the control plane answers the wake with this error and marks the
   * tenant failed with it, without counting a crash. The worker exits next.
   */
  async refused(code: string, message: string): Promise<void> {
    await this.#call('refused', { code, message })
  }

  /** Reports a verified, finished hibernation (local files already removed). */
  async hibernated(nextWakeAt: number | null, metrics: MetricsDelta): Promise<void> {
    await this.#call('hibernated', { nextWakeAt, metrics })
  }

  async #call(action: string, body: object): Promise<unknown> {
    let response: Response
    try {
      response = await fetch(`${this.#baseUrl}/internal/v1/workers/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tenantId: this.#tenantId, epoch: this.#epoch, ...body }),
        signal: AbortSignal.timeout(CONTROL_CALL_TIMEOUT_MS),
      })
    } catch (err) {
      throw new WorkerError(
        'CONTROL_PLANE_UNREACHABLE',
        `${action} tenant ${this.#tenantId}: control plane unreachable at ${this.#baseUrl}`, {
        cause: err,
      })
    }
    const payload = (await response.json().catch(() => ({}))) as {
      error?: { code?: string; message?: string }
    }
    if (response.status === 409 || payload.error?.code === 'LEASE_LOST') {
      throw new WorkerError('LEASE_LOST', `${action} tenant ${this.#tenantId}: lease epoch ${this.#epoch} lost`)
    }
    if (!response.ok) {
      throw new WorkerError(
        'CONTROL_PLANE_REFUSED',
        `${action} tenant ${this.#tenantId}: control plane answered ${response.status} ${payload.error?.message ?? ''}`,
      )
    }
    return payload
  }
}
