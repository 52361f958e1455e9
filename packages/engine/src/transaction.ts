import { EngineError } from './engine-error.js'
import type { StepRow } from './journal.js'
import { toNullableJsonText } from './json.js'
import { errorText, failureOf, withCause } from './recorded-error.js'
import type { RunContext } from './run-context.js'
import { validateOptions } from './step.js'
import { TransactionScope } from './transaction-scope.js'
import type { TransactionClient } from './workflow-context.js'

/**
 * SQLite result codes that blame the storage, not the SQL: a transaction ended by one of them
 * is not the app's failure, so nothing is recorded and the run continues from its last
 * committed step once writes succeed again.
 */
const STORAGE_ERROR = /^SQLITE_(FULL|IOERR|CORRUPT|NOMEM|CANTOPEN|NOTADB|BUSY|LOCKED|PROTOCOL|READONLY)/

type Outcome = { ok: true; output: string | null } | { ok: false; error: unknown }

/** `ctx.transaction`: see {@link WorkflowContext.transaction} for the failure semantics. */
export async function runTransaction<T>(
  ctx: RunContext,
  name: string,
  fn: (tx: TransactionClient) => T,
): Promise<T> {
  validateOptions(name, undefined)
  const { seq, record } = ctx.enter('transaction', name)
  if (record !== undefined) return ctx.replay<T>(record)
  const { host } = ctx
  const { clock, observer, writer } = host
  const startedAt = clock()
  const t0 = performance.now()
  const row = (status: 'succeeded' | 'failed', output: string | null, error: string | null) =>
    ({
      seq,
      name,
      kind: 'transaction',
      status,
      attempts: 1,
      output,
      error,
      started_at: startedAt,
      ended_at: clock(),
    }) satisfies StepRow
  let scope: TransactionScope | undefined
  let outcome: Outcome
  try {
    outcome = writer.write(() => {
      scope = new TransactionScope(
        writer.db,
        host.transactionStatements,
        name,
        host.transactionTimeoutMs,
      )
      return settle(ctx, scope, name, fn, row)
    })
  } catch (error) {
    if (scope?.batchLost !== true) throw ctx.halt(storageFailure(ctx, name, error))
    // The transaction's own SQL made SQLite roll back the whole batch (GroupCommit#lose has
    // failed the other waiters). Unless the storage is to blame, that SQL fails the same way
    // on every replay: record the failure in a new batch, as for any SQL error.
    const cause = scope.failure
    if (STORAGE_ERROR.test(String((cause as { code?: unknown } | null)?.code)))
      throw ctx.halt(storageFailure(ctx, name, cause))
    try {
      writer.write(() => ctx.recordWithin(row('failed', null, errorText(cause))))
    } catch (writeError) {
      throw ctx.halt(storageFailure(ctx, name, writeError))
    }
    outcome = { ok: false, error: cause }
  }
  await ctx.durable()
  observer?.onStepEnd?.(ctx.workflow, name, performance.now() - t0, outcome.ok)
  if (!outcome.ok) throw withCause(failureOf(errorText(outcome.error)), outcome.error)
  return outcome.output === null ? (undefined as T) : (JSON.parse(outcome.output) as T)
}

/**
 * Runs the transaction's function inside its savepoint and records the outcome there. Throws
 * only if SQLite rolled back the whole batch (so that the group commit notices) or if the
 * engine's own writes fail; in both cases the savepoint is gone or rolled back.
 */
function settle<T>(
  ctx: RunContext,
  scope: TransactionScope,
  name: string,
  fn: (tx: TransactionClient) => T,
  row: (status: 'succeeded' | 'failed', output: string | null, error: string | null) => StepRow,
): Outcome {
  let output: string | null = null
  let failure: unknown
  let failed = false
  try {
    const value = fn(scope.client)
    if (typeof (value as { then?: unknown } | null)?.then === 'function') {
      ignoreOutcome(value as PromiseLike<unknown>)
      throw new EngineError(
        'INVALID_INPUT',
        `transaction '${name}' returned a promise; its function must be synchronous (await network work in ctx.step instead)`,
      )
    }
    if (scope.failure !== undefined) throw scope.failure
    output = toNullableJsonText(value, `the result of transaction '${name}'`, 'NOT_SERIALIZABLE')
  } catch (error) {
    failed = true
    failure = error
  }
  if (scope.batchLost) {
    scope.abandon()
    throw scope.failure
  }
  try {
    if (failed) {
      scope.rollback()
      ctx.recordWithin(row('failed', null, errorText(failure)))
      return { ok: false, error: failure }
    }
    ctx.recordWithin(row('succeeded', output, null))
    scope.release()
    return { ok: true, output }
  } catch (error) {
    // The journal write failed: the function's writes must not commit without it.
    scope.rollback()
    throw error
  }
}

/**
 * An async transaction function's promise runs on after the transaction ended and rejects
 * once it touches `tx` again; without a handler that rejection reached the process as an
 * unhandled rejection and killed the worker (issue 9). Its outcome is meaningless by then.
 */
function ignoreOutcome(promise: PromiseLike<unknown>): void {
  try {
    promise.then(undefined, () => undefined)
  } catch {
    // A thenable whose `then` throws has nothing left to handle.
  }
}

function storageFailure(ctx: RunContext, name: string, cause: unknown): EngineError {
  if (cause instanceof EngineError) return cause
  const code = (cause as { code?: unknown } | null)?.code
  return new EngineError(
    'STORAGE_FAILED',
    `transaction '${name}' of run ${ctx.runId}: ${typeof code === 'string' ? `${code}: ` : ''}${(cause as Error)?.message ?? String(cause)}; nothing of it is committed and the run continues from its last committed step`,
    { cause },
  )
}
