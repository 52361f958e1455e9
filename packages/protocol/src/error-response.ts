import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/**
 * The one place where an error `code` (from any litecell package) becomes an HTTP status.
 * Both the worker's tenant API and the control plane's public API answer through it, so a
 * client sees the same `{error: {code, message}}` whichever process produced the error.
 * Codes are matched by value (duck typing), never by `instanceof` across packages.
 */
const STATUS_BY_CODE: Readonly<Record<string, ContentfulStatusCode>> = {
  BAD_REQUEST: 400,
  INVALID_INPUT: 400,
  INVALID_JSON: 400,
  INVALID_TENANT_ID: 400,
  UNKNOWN_WORKFLOW: 400,
  UNKNOWN_APP: 400,
  NO_RESTORE_POINT: 400,
  QUERY_NOT_READ_ONLY: 400,
  QUERY_NOT_ALLOWED: 400,
  QUERY_TIMEOUT: 400,
  QUERY_TOO_LARGE: 400,
  QUERY_FAILED: 400,
  NOT_SERIALIZABLE: 400,
  AMBIGUOUS_RUN_ID: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RUN_NOT_FOUND: 404,
  SCHEDULE_NOT_FOUND: 404,
  TENANT_NOT_FOUND: 404,
  INVALID_STATE: 409,
  IDEMPOTENCY_CONFLICT: 409,
  DUPLICATE_RUN: 409,
  TENANT_EXISTS: 409,
  TENANT_STATE_CONFLICT: 409,
  SCHEDULE_EXISTS: 409,
  // The tenant's file runs another app, or an applied migration changed: an explicit
  // `tenants upgrade` (or restoring the app) resolves it, retrying does not.
  APP_MISMATCH: 409,
  MIGRATION_MISMATCH: 409,
  // A worker callback whose lease epoch is not current: the worker fences itself.
  LEASE_LOST: 409,
  BODY_TOO_LARGE: 413,
  OVER_CAPACITY: 429,
  TOO_MANY_STREAMS: 429,
  // Too many queries of one tenant wait for its query thread.
  QUERY_BUSY: 429,
  TENANT_FAILED: 503,
  STORAGE_UNAVAILABLE: 503,
  STORAGE_FAILED: 503,
  REPLICA_NOT_VERIFIED: 503,
  WORKER_UNAVAILABLE: 503,
  WORKER_START_FAILED: 503,
  // The tenant's app module does not load: fix the app, then wake the tenant.
  APP_LOAD_FAILED: 503,
  WORKER_STOPPING: 503,
  ENGINE_CLOSED: 503,
  // The server cannot do this here (tenant logs under the Kubernetes launcher).
  LOGS_UNAVAILABLE: 501,
}

/**
 * Seconds a client should wait before retrying, sent as `Retry-After` with these codes: the
 * condition is temporary (a full fleet, a worker being replaced, storage catching up). An
 * error that knows better carries its own `retryAfterSeconds` (the wake queue's guess from
 * its length), which wins.
 */
const RETRY_AFTER_SECONDS: Readonly<Record<string, number>> = {
  OVER_CAPACITY: 1,
  QUERY_BUSY: 1,
  WORKER_UNAVAILABLE: 1,
  WORKER_STOPPING: 1,
  STORAGE_UNAVAILABLE: 2,
}

/**
 * The JSON body of every error response. Some codes carry facts beside the message, as
 * fields of `error`: `DUPLICATE_RUN` names the unfinished run holding the deduplication id
 * (`runId`); a replicated acknowledgement that timed out (`STORAGE_UNAVAILABLE`) names the
 * `runId` (or `runIds`) it `committedLocally`.
 */
export interface ErrorBody {
  error: { code: string; message: string; runId?: string; [field: string]: unknown }
}

/** Maps an error code to its HTTP status; unknown codes are server errors (500). */
export function statusForCode(code: string): ContentfulStatusCode {
  return STATUS_BY_CODE[code] ?? 500
}

/** Reads the stable `code` of any litecell error, or `INTERNAL` for anything else. */
export function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return /^[A-Z][A-Z0-9_]+$/.test(err.code) ? err.code : 'INTERNAL'
  }
  return 'INTERNAL'
}

/**
 * Turns an error into the API's error response. Unexpected errors (500) keep their detail
 * out of the response: the caller logs them, the client gets a generic message.
 */
export function errorResponse(context: Context, err: unknown): Response {
  const code = errorCode(err)
  const status = statusForCode(code)
  const message =
    status >= 500 && code === 'INTERNAL'
      ? 'internal error; see the server log'
      : err instanceof Error
        ? err.message
        : String(err)
  const retryAfter = ownRetryAfter(err) ?? RETRY_AFTER_SECONDS[code]
  const headers: Record<string, string> = {}
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter)
  // The rest of a body too large is left unread: the connection cannot serve another request.
  if (code === 'BODY_TOO_LARGE') headers.connection = 'close'
  // An internal error's details stay in the log; a 503 `STORAGE_UNAVAILABLE` names its runs.
  const details = status >= 500 && code === 'INTERNAL' ? {} : detailsOf(err)
  return context.json({ error: { ...details, code, message } } satisfies ErrorBody, status, headers)
}

/** An error's own `retryAfterSeconds` (a whole number of seconds), if it has one. */
function ownRetryAfter(err: unknown): number | undefined {
  const seconds = (err as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds
  return Number.isSafeInteger(seconds) && (seconds as number) >= 0 ? (seconds as number) : undefined
}

/**
 * The `details` an error carries for the client (the engine's `DUPLICATE_RUN` has
 * `{ runId }`, a replicated acknowledgement's timeout `{ runId | runIds, committedLocally }`):
 * its string, number, boolean and string-list fields, under camelCase keys.
 */
function detailsOf(err: unknown): Record<string, string | number | boolean | string[]> {
  const details = (err as { details?: unknown } | null)?.details
  if (typeof details !== 'object' || details === null) return {}
  const out: Record<string, string | number | boolean | string[]> = {}
  for (const [key, value] of Object.entries(details)) {
    if (!/^[a-z][A-Za-z]*$/.test(key)) continue
    const isList = Array.isArray(value) && value.every((item) => typeof item === 'string')
    if (
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean' ||
      isList
    ) {
      out[key] = value as string | number | boolean | string[]
    }
  }
  return out
}

/** The `{error: {code, message}}` of a parsed response body, or null if it has none. */
export function errorOf(payload: unknown): ErrorBody['error'] | null {
  const error = (payload as { error?: { code?: unknown; message?: unknown } } | null)?.error
  if (typeof error?.code !== 'string') return null
  return { code: error.code, message: typeof error.message === 'string' ? error.message : '' }
}
