/**
 * How the client retries an answer that says "busy, try again" (429, or a 503 from a worker
 * being replaced or from storage): after the server's `Retry-After` if it sent one, else with
 * exponential backoff and jitter. Only requests safe to repeat are retried: reads, and writes
 * marked idempotent (run starts carry idempotency keys).
 */
export interface ResponseRetryOptions {
  /** Attempts in all, the first included. @default 4 */
  readonly attempts?: number
  /** First backoff when the server names no delay; doubles each time. @default 250 */
  readonly initialDelayMs?: number
  /** Longest single pause, whatever `Retry-After` says. @default 10_000 */
  readonly maxDelayMs?: number
}

/** 503 codes that wait for a person (an admin's wake, a fixed app), not for time. */
export const STUCK_CODES: ReadonlySet<string> = new Set(['TENANT_FAILED', 'APP_LOAD_FAILED'])

/** Whether an answer asks to be retried later: 429, or a 503 that is not stuck. */
export async function isRetryableAnswer(response: Response): Promise<boolean> {
  if (response.status === 429) return true
  if (response.status !== 503) return false
  const code = await response
    .clone()
    .json()
    .then((body: unknown) => (body as { error?: { code?: unknown } } | null)?.error?.code)
    .catch(() => undefined)
  return typeof code !== 'string' || !STUCK_CODES.has(code)
}

/**
 * The pause before attempt `attempt + 1`: the `Retry-After` header (seconds, or an HTTP date)
 * if present, else `initialDelayMs · 2^(attempt-1)` with ±50 % jitter; at most `maxDelayMs`.
 */
export function retryDelayMs(
  response: Response,
  attempt: number,
  options: ResponseRetryOptions,
  nowMs = Date.now(),
): number {
  const maxDelayMs = options.maxDelayMs ?? 10_000
  const serverMs = retryAfterMs(response, nowMs)
  if (serverMs !== undefined) return Math.min(maxDelayMs, serverMs)
  const base = (options.initialDelayMs ?? 250) * 2 ** (attempt - 1)
  return Math.min(maxDelayMs, base * (0.5 + Math.random()))
}

/** The answer's `Retry-After` (seconds, or an HTTP date) in ms from `nowMs`, if it has one. */
export function retryAfterMs(response: Response, nowMs = Date.now()): number | undefined {
  const header = response.headers.get('retry-after')
  if (header === null) return undefined
  const seconds = Number(header)
  const ms = Number.isFinite(seconds) ? seconds * 1_000 : Date.parse(header) - nowMs
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined
}

/** A pause that ends early, rejecting with the signal's reason, when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
