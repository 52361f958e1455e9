/**
 * Stable error codes of the engine. They are public API: callers (the worker's HTTP layer in
 * particular) branch on `code`, never on the message or on `instanceof`.
 */
export type EngineErrorCode =
  | 'UNKNOWN_WORKFLOW'
  | 'INVALID_INPUT'
  | 'RUN_NOT_FOUND'
  | 'AMBIGUOUS_RUN_ID'
  | 'INVALID_STATE'
  | 'IDEMPOTENCY_CONFLICT'
  | 'NON_DETERMINISM'
  | 'NOT_SERIALIZABLE'
  | 'QUERY_NOT_READ_ONLY'
  | 'QUERY_NOT_ALLOWED'
  | 'QUERY_TIMEOUT'
  | 'QUERY_BUSY'
  | 'QUERY_TOO_LARGE'
  | 'QUERY_FAILED'
  | 'ENGINE_CLOSED'
  | 'MIGRATION_FAILED'
  | 'STEP_TIMEOUT'
  | 'CHILD_FAILED'
  | 'STORAGE_FAILED'
  | 'RUN_QUARANTINED'
  | 'SCHEDULE_NOT_FOUND'
  | 'SCHEDULE_EXISTS'
  | 'APP_MISMATCH'
  | 'MIGRATION_MISMATCH'
  | 'DUPLICATE_RUN'
  | 'RUN_TIMEOUT'
  | 'PARENT_CANCELLED'

/**
 * The one base class of errors the engine throws. `code` is stable; `cause` keeps the
 * underlying error (a SQLite error, the step's own error, …).
 */
export class EngineError extends Error {
  override name = 'EngineError'
  /** Stable SCREAMING_SNAKE identifier, e.g. `RUN_NOT_FOUND`. */
  readonly code: EngineErrorCode
  /**
   * Facts a caller may act on, beside the message (an HTTP layer adds them to the error
   * body): `DUPLICATE_RUN` carries `{ runId }` of the unfinished run holding the id.
   */
  readonly details: Readonly<Record<string, string | number>> | undefined

  constructor(
    code: EngineErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Readonly<Record<string, string | number>> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = options?.details
  }
}

/**
 * The `INVALID_INPUT` error for a bad argument, quoting the value and its type (p-queue style):
 * "Expected `concurrency` to be a number from 1 and up, got `0` (number)".
 */
export function invalidInput(what: string, value: unknown, expected: string): EngineError {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
  let shown: string
  try {
    shown = typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)
  } catch {
    shown = String(value)
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`
  return new EngineError(
    'INVALID_INPUT',
    `Expected \`${what}\` to be ${expected}, got \`${shown}\` (${type})`,
  )
}

/**
 * Throw from a step to fail it without retries. `ctx.step` also throws a `TerminalError`
 * once a step's retries are exhausted, so that a live run and its replay see the same type.
 *
 * @example
 * await ctx.step('charge', async () => {
 *   if (card.expired) throw new TerminalError('card expired')
 * })
 */
export class TerminalError extends Error {
  override name = 'TerminalError'
  /** Optional application code, kept in the run's recorded error. */
  readonly code: string | undefined

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = options?.code
  }
}
