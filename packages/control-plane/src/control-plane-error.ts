/** Stable, public error codes of the control plane. */
export type ControlPlaneErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_TENANT_ID'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'TENANT_NOT_FOUND'
  | 'TENANT_EXISTS'
  | 'TENANT_STATE_CONFLICT'
  | 'LEASE_LOST'
  | 'TENANT_FAILED'
  | 'UNKNOWN_APP'
  | 'OVER_CAPACITY'
  // One tenant's run streams open at once (see run-stream-slots.ts).
  | 'TOO_MANY_STREAMS'
  | 'WORKER_UNAVAILABLE'
  | 'WORKER_START_FAILED'
  | 'WORKER_STOPPING'
  | 'NO_RESTORE_POINT'
  | 'NOT_FOUND'
  | 'INVALID_CONFIG'
  | 'REGISTRY_UNRESTORABLE'
  | 'STORAGE_UNAVAILABLE'
  // The tenant's app module does not load (the worker's report, at a wake).
  | 'APP_LOAD_FAILED'
  // This launcher cannot serve tenant logs (pods: the cluster's pod logs).
  | 'LOGS_UNAVAILABLE'
  // A worker's engine refused the tenant's file (see the worker's EXIT_APP_REFUSED).
  | 'APP_MISMATCH'
  | 'MIGRATION_MISMATCH'

/** Base error of the control plane: a stable `code` plus the `cause` it wraps. */
export class ControlPlaneError extends Error {
  override name = 'ControlPlaneError'
  readonly code: ControlPlaneErrorCode
  /**
   * When to try again, for refusals that pass (`OVER_CAPACITY`): the protocol's `errorResponse`
   * sends it as Retry-After in place of the code's default.
   */
  readonly retryAfterSeconds: number | undefined

  constructor(
    code: ControlPlaneErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.retryAfterSeconds = options?.retryAfterSeconds
  }
}
