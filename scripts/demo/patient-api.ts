import { retrying, type LitecellClient } from '@litecell/client'

/** How long a request keeps being retried while the API answers "busy" or cannot be reached. */
const RETRY_FOR_MS = 30_000
/** Longest wait for one answer (long-polls ask for at most a few seconds). */
const TIMEOUT_MS = 30_000
/** Longest wait for a lifecycle operation: the control plane's own hibernate limit. */
const LIFECYCLE_TIMEOUT_MS = 120_000

/**
 * The litecell API as the demo uses it: `@litecell/client` with patience. Reads and run
 * submissions (batches carry idempotency keys) are safe to repeat, so transient failures (no
 * answer, 429, 503 while a worker is being replaced) are retried for a while; lifecycle
 * operations (hibernate, wake, fork) are sent once, and shown as they went. Once `signal`
 * aborts, requests in flight are cancelled and new ones throw at once.
 */
export class PatientApi {
  readonly #client: LitecellClient
  readonly #signal: AbortSignal

  constructor(client: LitecellClient, signal: AbortSignal) {
    this.#client = client
    this.#signal = signal
  }

  get<T>(path: string): Promise<T> {
    return this.#patiently(() => this.#client.request<T>('GET', path, this.#options(TIMEOUT_MS)))
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.#patiently(() =>
      this.#client.request<T>('POST', path, { ...this.#options(TIMEOUT_MS), body }),
    )
  }

  /** A POST sent once: lifecycle operations are shown as they went. */
  postOnce<T>(path: string, body: unknown = {}): Promise<T> {
    return this.#client.request<T>('POST', path, { ...this.#options(LIFECYCLE_TIMEOUT_MS), body })
  }

  #options(timeoutMs: number): { signal: AbortSignal; timeoutMs: number } {
    return { signal: this.#signal, timeoutMs }
  }

  #patiently<T>(call: () => Promise<T>): Promise<T> {
    return retrying(call, { forMs: RETRY_FOR_MS, signal: this.#signal })
  }
}
