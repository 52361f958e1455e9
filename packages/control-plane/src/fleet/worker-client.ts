import { nodeFetch } from '@litecell/client'
import {
  HIBERNATE_PATH,
  SYNC_POINT_PATH,
  TENANT_DURABILITY_HEADER,
  WORKER_SECRET_HEADER,
  errorOf,
  type Durability,
  type SyncPoint,
} from '@litecell/protocol'
import { ControlPlaneError } from '../control-plane-error.js'

/** Longest a hibernate waits for the worker's verified final sync. */
export const HIBERNATE_TIMEOUT_MS = 120_000
/** How long a worker asked to hand its slot over may wait to go idle (a run about to end). */
export const HAND_OVER_WAIT_MS = 3_000
/** Longest a worker may take beyond that to answer. */
export const HAND_OVER_ANSWER_MS = 5_000

/** How a request reaches a worker; in-process tests pass the worker app's `request`. */
export type WorkerFetch = (url: string, init: RequestInit) => Promise<Response>

/**
 * The control plane's side of the internal API, mirroring the worker's `ControlClient`: every
 * call carries the worker's secret in {@link WORKER_SECRET_HEADER}, which only the control
 * plane that launched the worker knows. One client per ready worker.
 */
export class WorkerClient {
  /** Where the worker serves, as it announced when ready. */
  readonly url: string
  readonly #secret: string
  readonly #fetch: WorkerFetch

  constructor(options: { url: string; secret: string; fetch?: WorkerFetch }) {
    this.url = options.url.replace(/\/$/, '')
    this.#secret = options.secret
    this.#fetch = options.fetch ?? nodeFetch
  }

  /**
   * Asks the worker to hibernate and waits for its answer: the worker stops at the next
   * durable point, verifies its replica and removes its local files, then exits. Resolves
   * `false` when no answer came at all (the worker is unreachable); whether the hibernation
   * held is the worker's exit code, which the fleet reads.
   */
  async hibernate(timeoutMs = HIBERNATE_TIMEOUT_MS): Promise<boolean> {
    try {
      await this.#fetch(`${this.url}${HIBERNATE_PATH}`, {
        method: 'POST',
        headers: this.#headers(),
        signal: AbortSignal.timeout(timeoutMs),
      })
      return true
    } catch {
      return false
    }
  }

  /**
   * Asks the worker to hibernate as soon as it is idle (no run executing, no request in
   * flight, no timer due) within `waitMs`: it answers whether it began to. False when it
   * stayed busy, or did not answer.
   */
  async hibernateIfIdle(waitMs = HAND_OVER_WAIT_MS): Promise<boolean> {
    try {
      const response = await this.#fetch(`${this.url}${HIBERNATE_PATH}?ifIdle=1&waitMs=${waitMs}`, {
        method: 'POST',
        headers: this.#headers(),
        signal: AbortSignal.timeout(waitMs + HAND_OVER_ANSWER_MS),
      })
      const answer = (await response.json()) as { hibernating?: unknown }
      return response.ok && answer.hibernating === true
    } catch {
      return false
    }
  }

  /**
   * Forwards a tenant API request (`/v1/tenants/<id>/…` and its query) and returns the
   * worker's response unread; a network failure is thrown as it came (the proxy tells
   * "never sent" from "maybe applied"). `durability` is the tenant's setting (issue 11).
   */
  forward(
    method: string,
    pathAndQuery: string,
    request: {
      contentType?: string | undefined
      body?: string | undefined
      signal?: AbortSignal
      durability?: Durability
      /** Trace context (`traceparent`, `tracestate`) of the proxy hop's span. */
      traceHeaders?: Record<string, string>
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {
      ...request.traceHeaders,
      'content-type': request.contentType ?? 'application/json',
    }
    if (request.durability) headers[TENANT_DURABILITY_HEADER] = request.durability
    return this.#fetch(`${this.url}${pathAndQuery}`, {
      method,
      headers: this.#headers(headers),
      body: request.body,
      ...(request.signal ? { signal: request.signal } : {}),
    })
  }

  /**
   * Makes the tenant's replica current without stopping it (see the protocol's
   * `SYNC_POINT_PATH`). `WORKER_STOPPING` when the worker began to hibernate (then its exit
   * says whether the replica is current); `WORKER_UNAVAILABLE` for any other refusal or no
   * answer at all.
   */
  async syncPoint(tenantId: string, timeoutMs = HIBERNATE_TIMEOUT_MS): Promise<SyncPoint> {
    let response: Response
    try {
      response = await this.#fetch(`${this.url}${SYNC_POINT_PATH}`, {
        method: 'POST',
        headers: this.#headers(),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (err) {
      throw new ControlPlaneError(
        'WORKER_UNAVAILABLE',
        `sync tenant ${tenantId}: no answer from its worker`,
        {
          cause: err,
        },
      )
    }
    const payload: unknown = await response.json().catch(() => null)
    if (response.ok) return payload as SyncPoint
    const error = errorOf(payload)
    throw new ControlPlaneError(
      error?.code === 'WORKER_STOPPING' ? 'WORKER_STOPPING' : 'WORKER_UNAVAILABLE',
      `sync tenant ${tenantId}: its worker answered ${response.status} ${error?.code ?? ''} ${error?.message ?? ''}`.trim(),
    )
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return { [WORKER_SECRET_HEADER]: this.#secret, ...extra }
  }
}
