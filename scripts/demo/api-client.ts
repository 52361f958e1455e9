import { setTimeout as sleep } from 'node:timers/promises'

/** How long a request keeps being retried while the API answers "busy" or cannot be reached. */
const DEFAULT_RETRY_FOR_MS = 30_000
/** Longest wait for one answer (long-polls ask for at most a few seconds). */
const DEFAULT_TIMEOUT_MS = 30_000
/** Longest wait for a lifecycle operation: the control plane's own hibernate limit. */
const LIFECYCLE_TIMEOUT_MS = 120_000
/** Pause between two attempts. */
const RETRY_DELAY_MS = 100
/** API error codes that mean "try again shortly" (a worker being replaced, a full fleet). */
const TRANSIENT_CODES = new Set(['WORKER_UNAVAILABLE', 'WORKER_STOPPING', 'OVER_CAPACITY', 'TENANT_STATE_CONFLICT'])

/** An error answer of the API. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** How one request is sent. */
interface RequestOptions {
  /** Keep retrying transient failures this long; 0: send once. */
  readonly retryForMs: number
  readonly timeoutMs: number
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error }

/**
 * The litecell HTTP API as the demo uses it: JSON in and out, the admin token, and patience.
 * Reads and run submissions (batches carry idempotency keys) are safe to repeat, so connection
 * errors, timeouts and transient answers (429, 503 while a worker is being replaced) are
 * retried for a while; any other error answer throws {@link ApiError}.
 */
export class ApiClient {
  readonly #baseUrl: string
  readonly #token: string
  readonly #signal: AbortSignal | undefined

  /** Once `signal` aborts, requests in flight are cancelled and new ones throw at once. */
  constructor(baseUrl: string, token: string, signal?: AbortSignal) {
    this.#baseUrl = baseUrl
    this.#token = token
    this.#signal = signal
  }

  get<T>(path: string): Promise<T> {
    return this.#request<T>('GET', path, undefined, { retryForMs: DEFAULT_RETRY_FOR_MS, timeoutMs: DEFAULT_TIMEOUT_MS })
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.#request<T>('POST', path, body, { retryForMs: DEFAULT_RETRY_FOR_MS, timeoutMs: DEFAULT_TIMEOUT_MS })
  }

  /** A POST sent once: lifecycle operations (hibernate, wake, fork) are shown as they went. */
  postOnce<T>(path: string, body: unknown = {}): Promise<T> {
    return this.#request<T>('POST', path, body, { retryForMs: 0, timeoutMs: LIFECYCLE_TIMEOUT_MS })
  }

  async #request<T>(method: string, path: string, body: unknown, options: RequestOptions): Promise<T> {
    const deadline = performance.now() + options.retryForMs
    for (;;) {
      this.#signal?.throwIfAborted()
      const outcome = await this.#attempt<T>(method, path, body, options.timeoutMs)
      if (outcome.ok) return outcome.value
      if (performance.now() >= deadline) throw outcome.error
      await sleep(RETRY_DELAY_MS, undefined, { signal: this.#signal })
    }
  }

  /** One try: the answer, a transient failure worth a retry, or (thrown) a final error answer. */
  async #attempt<T>(method: string, path: string, body: unknown, timeoutMs: number): Promise<Outcome<T>> {
    const timeout = AbortSignal.timeout(timeoutMs)
    let response: Response
    let payload: (T & { error?: { code?: string; message?: string } }) | null
    try {
      response = await fetch(`${this.#baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: this.#signal ? AbortSignal.any([this.#signal, timeout]) : timeout,
      })
      payload = (await response.json().catch(() => null)) as typeof payload
    } catch (err) {
      this.#signal?.throwIfAborted()
      const reason = timeout.aborted ? `no answer within ${timeoutMs / 1_000} s` : (err as Error).message
      return { ok: false, error: new Error(`${method} ${path}: ${reason}`, { cause: err }) }
    }
    if (response.ok && payload !== null) return { ok: true, value: payload as T }
    if (response.ok) return { ok: false, error: new Error(`${method} ${path}: unreadable answer`) }
    const code = payload?.error?.code ?? 'HTTP_ERROR'
    const error = new ApiError(response.status, code, `${method} ${path} → ${response.status} ${code}: ${payload?.error?.message ?? ''}`)
    if (response.status === 429 || TRANSIENT_CODES.has(code)) return { ok: false, error }
    throw error
  }
}
