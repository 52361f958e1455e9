/** Stable, public error codes of the worker package. */
export type WorkerErrorCode =
  | 'BAD_REQUEST'
  | 'WORKER_STOPPING'
  | 'LEASE_LOST'
  | 'APP_LOAD_FAILED'
  | 'UNAUTHENTICATED'
  | 'NOT_FOUND'
  | 'CONTROL_PLANE_UNREACHABLE'
  | 'CONTROL_PLANE_REFUSED'
  | 'NO_RESTORE_POINT'
  | 'STORAGE_UNAVAILABLE'

/**
 * Base error of the worker package: a stable `code` plus the `cause` it wraps, and `details`
 * its error response carries beside code and message (e.g. `runId`, `committedLocally`).
 */
export class WorkerError extends Error {
  override name = 'WorkerError'
  readonly code: WorkerErrorCode
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(
    code: WorkerErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Readonly<Record<string, unknown>> },
  ) {
    super(message, options)
    this.code = code
    this.details = options?.details
  }
}
