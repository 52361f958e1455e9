/** Codes of failures the client raises itself; API errors carry the server's code. */
export type ClientErrorCode = 'CONNECTION_FAILED' | 'TIMEOUT' | 'INVALID_RESPONSE'

/**
 * A failed API call: an error answer of the API (`{error: {code, message}}`, its status and
 * code), or the client's own failure (`CONNECTION_FAILED`, `TIMEOUT`, `INVALID_RESPONSE`,
 * status 0 when there was no answer). The message is one line:
 * `404 TENANT_NOT_FOUND: no tenant acme`.
 */
export class LitecellError extends Error {
  override name = 'LitecellError'
  /** The API's stable code (`TENANT_NOT_FOUND`, `OVER_CAPACITY`…), `HTTP_<status>` for an answer without one, or a {@link ClientErrorCode}. */
  readonly code: string
  /** HTTP status of the answer; 0 when none came. */
  readonly status: number
  /** The server's message, without the status and code. */
  readonly detail: string
  /**
   * Facts the error answer carries beside its message: `DUPLICATE_RUN` has `runId`, the
   * unfinished run holding the deduplication id; a replicated acknowledgement that timed out
   * (`STORAGE_UNAVAILABLE`) has `runId` (or `runIds` for a batch) and `committedLocally: true`.
   * Empty for most errors.
   */
  readonly details: Readonly<Record<string, unknown>>
  /** How long the answer asked to wait before a retry (its `Retry-After`), if it said. */
  readonly retryAfterMs: number | undefined

  constructor(
    code: string,
    status: number,
    detail: string,
    options: {
      cause?: unknown
      message?: string
      details?: Readonly<Record<string, unknown>>
      retryAfterMs?: number
    } = {},
  ) {
    super(options.message ?? `${status} ${code}: ${detail}`, { cause: options.cause })
    this.code = code
    this.status = status
    this.detail = detail
    this.details = options.details ?? {}
    this.retryAfterMs = options.retryAfterMs
  }
}

/** Whether `err` is a {@link LitecellError} (by shape, so two copies of the package agree). */
export function isLitecellError(err: unknown): err is LitecellError {
  return (
    err instanceof Error &&
    err.name === 'LitecellError' &&
    typeof (err as { status?: unknown }).status === 'number'
  )
}

/** API codes that mean "the same request may succeed shortly". */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'OVER_CAPACITY',
  'QUERY_BUSY',
  'WORKER_UNAVAILABLE',
  'WORKER_STOPPING',
  'TENANT_STATE_CONFLICT',
])

/**
 * Whether a failure is worth retrying: no answer, 429, or a worker being replaced. A failed
 * tenant (`TENANT_FAILED`) is not: it waits for an admin's wake.
 */
export function isTransient(err: unknown): boolean {
  if (!isLitecellError(err)) return false
  if (err.code === 'CONNECTION_FAILED' || err.code === 'TIMEOUT') return true
  return err.status === 429 || TRANSIENT_CODES.has(err.code)
}
