import { HIBERNATE_PATH, WORKER_SECRET_HEADER, errorOf } from '@litecell/protocol'
import { ControlPlaneError } from '../control-plane-error.js'

/** Longest a hibernate waits for the worker's verified final sync. */
export const HIBERNATE_TIMEOUT_MS = 120_000

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
    this.#fetch = options.fetch ?? ((url, init) => fetch(url, init))
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
   * Forwards a tenant API request (`/v1/tenants/<id>/…` and its query) and returns the
   * worker's response unread; a network failure is thrown as it came (the proxy tells
   * "never sent" from "maybe applied").
   */
  forward(
    method: string,
    pathAndQuery: string,
    request: { contentType?: string | undefined; body?: string | undefined } = {},
  ): Promise<Response> {
    return this.#fetch(`${this.url}${pathAndQuery}`, {
      method,
      headers: this.#headers({ 'content-type': request.contentType ?? 'application/json' }),
      body: request.body,
    })
  }

  /** A consistent copy of the tenant database, streamed; `WORKER_UNAVAILABLE` on a refusal. */
  async snapshot(tenantId: string): Promise<Response> {
    const response = await this.forward('GET', `/v1/tenants/${tenantId}/snapshot`)
    if (!response.ok) {
      const error = errorOf(await response.json().catch(() => null))
      throw new ControlPlaneError(
        'WORKER_UNAVAILABLE',
        `snapshot tenant ${tenantId}: the worker answered ${response.status} ${error?.code ?? ''}`.trim(),
      )
    }
    return response
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return { [WORKER_SECRET_HEADER]: this.#secret, ...extra }
  }
}
