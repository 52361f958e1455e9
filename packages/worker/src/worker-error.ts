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

/** Base error of the worker package: a stable `code` plus the `cause` it wraps. */
export class WorkerError extends Error {
  override name = 'WorkerError'
  readonly code: WorkerErrorCode

  constructor(code: WorkerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
