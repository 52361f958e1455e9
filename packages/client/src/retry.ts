import { isLitecellError, isTransient } from './litecell-error.js'
import { pause } from './response-retry.js'

/** How {@link retrying} keeps trying. */
export interface RetryOptions {
  /** Keep retrying this long after the first attempt. @default 30_000 */
  readonly forMs?: number
  /** Which failures to retry. @default isTransient */
  readonly isRetryable?: (err: unknown) => boolean
  /** Told about each failure before it is retried (for counting). */
  readonly onRetry?: (err: unknown) => void
  /** First pause; it doubles up to `maxDelayMs`, with jitter. @default 100 */
  readonly initialDelayMs?: number
  /** @default 2_000 */
  readonly maxDelayMs?: number
  /** Stops the retries (the pause ends at once and the signal's reason is thrown). */
  readonly signal?: AbortSignal
}

/**
 * Calls `call` until it succeeds, retrying the failures `isRetryable` accepts (by default the
 * transient ones: no answer, 429, a worker being replaced) with exponential backoff and
 * jitter, never sooner than an answer's `Retry-After`, for at most `forMs`; then the last
 * error is thrown. Only for calls that are safe to
 * repeat: reads, and submissions that carry idempotency keys.
 */
export async function retrying<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.forMs ?? 30_000)
  const isRetryable = options.isRetryable ?? isTransient
  let delayMs = options.initialDelayMs ?? 100
  for (;;) {
    options.signal?.throwIfAborted()
    let serverMs: number | undefined
    try {
      return await call()
    } catch (err) {
      if (!isRetryable(err) || Date.now() >= deadline) throw err
      options.onRetry?.(err)
      serverMs = isLitecellError(err) ? err.retryAfterMs : undefined
    }
    // Not sooner than the server asked (a 429's Retry-After), nor past the deadline: the last
    // attempt is made at it.
    const backoffMs = Math.max(delayMs * (0.5 + Math.random()), serverMs ?? 0)
    await pause(Math.min(backoffMs, Math.max(0, deadline - Date.now())), options.signal)
    delayMs = Math.min(options.maxDelayMs ?? 2_000, delayMs * 2)
  }
}
