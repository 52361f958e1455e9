/**
 * Stable error codes of `@litecell/replica`. They are public API: callers branch on `code`
 * (duck typing), and the HTTP layer maps them to statuses.
 */
export type ReplicaErrorCode =
  | 'REPLICA_NOT_VERIFIED'
  | 'RESTORE_FAILED'
  | 'REPLICA_UNRESTORABLE'
  | 'NO_REPLICA'
  | 'STORAGE_UNAVAILABLE'
  | 'STORAGE_AUTH_FAILED'
  | 'STORAGE_BUCKET_MISSING'
  | 'STORAGE_FORBIDDEN'
  | 'LITESTREAM_NOT_FOUND'
  | 'LITESTREAM_FAILED'
  | 'REPLICA_PATH_BUSY'
  | 'INVALID_CONFIG'

/** Options of {@link ReplicaError}. */
export interface ReplicaErrorOptions {
  /** The error this one wraps. */
  readonly cause?: unknown
  /** What an operator should check, appended to the message as `(hint: …)`. */
  readonly hint?: string
}

/**
 * The one error class of the replica package. Its `message` reads as a chain of
 * lowercase verb phrases (`restore tenant acme: list objects: connect ECONNREFUSED …`) and
 * never contains a secret.
 */
export class ReplicaError extends Error {
  override readonly name = 'ReplicaError'
  /** Stable, SCREAMING_SNAKE code; see {@link ReplicaErrorCode}. */
  readonly code: ReplicaErrorCode
  /** Operator hint, also part of `message`. */
  readonly hint: string | undefined
  /** The message without the hint, for wrapping by an outer layer. */
  readonly reason: string

  constructor(code: ReplicaErrorCode, message: string, options: ReplicaErrorOptions = {}) {
    super(options.hint ? `${message} (hint: ${options.hint})` : message, {
      cause: options.cause,
    })
    this.code = code
    this.hint = options.hint
    this.reason = message
  }

  /**
   * Prefix the message with what was being done (`restore tenant acme`), keeping code,
   * hint and cause. Non-replica errors become `fallbackCode`.
   */
  static wrap(err: unknown, context: string, fallbackCode: ReplicaErrorCode): ReplicaError {
    if (isReplicaError(err)) {
      return new ReplicaError(err.code, `${context}: ${err.reason}`, {
        cause: err,
        ...(err.hint ? { hint: err.hint } : {}),
      })
    }
    return new ReplicaError(fallbackCode, `${context}: ${messageOf(err)}`, { cause: err })
  }
}

/** Whether `err` is a replica error (by shape, so it works across package copies). */
export function isReplicaError(err: unknown): err is ReplicaError {
  return err instanceof Error && err.name === 'ReplicaError' && 'code' in err
}

/** The message of any thrown value (without the hint of a replica error). */
export function messageOf(err: unknown): string {
  if (isReplicaError(err)) return err.reason
  return err instanceof Error ? err.message : String(err)
}
