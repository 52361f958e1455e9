import type { Duration } from './duration.js'
import type { JsonValue } from './json.js'
import type { RunTags } from './run.js'

/** Retry backoff of a step: attempt n waits `min(initialMs * factor^(n-1), maxMs)`. */
export interface Backoff {
  /** @default 100 */
  readonly initialMs?: number
  /** @default 2 */
  readonly factor?: number
  /** @default 60_000 */
  readonly maxMs?: number
}

/** Options of `ctx.step`. */
export interface StepOptions {
  /** Retries after the first attempt fails; `TerminalError`s are never retried. @default 3 */
  readonly retries?: number
  /** Wait between attempts. @default { initialMs: 100, factor: 2, maxMs: 60_000 } */
  readonly backoff?: Backoff
  /** An attempt running longer fails with `STEP_TIMEOUT` (retryable); its signal aborts. */
  readonly timeoutMs?: number
  /**
   * An output gate (issue 11): `'replicated'` calls `fn` only once every earlier checkpoint
   * of the run is confirmed in the tenant's replica (the engine's `confirmDurable` hook), so
   * an external side effect (a payment, an email, a job submission) never acts on state a
   * machine loss could roll back. It costs each attempt the wait for the replica, about one
   * sync interval of the replicator (see the engine README). If the confirmation does not come
   * (storage down), `fn` is not called: the run sleeps and tries the gate again later.
   * Without a `confirmDurable` hook the gate waits for the local commit only.
   */
  readonly gate?: 'replicated'
}

/** What a step function receives. */
export interface StepAttempt {
  /** 1 for the first attempt. */
  readonly attempt: number
  /** Aborted when the attempt exceeds `timeoutMs`. */
  readonly signal: AbortSignal
}

/** A value bound to an SQL parameter. */
export type SqlValue = null | number | bigint | string | boolean | Uint8Array
/** A row returned by SQL: column name → value. */
export type SqlRow = Record<string, null | number | bigint | string | Uint8Array>

/** Arguments of an SQL statement: positional (`?`, `?1`) or named (`:id`, `@id`, `$id`). */
export type SqlArgs = readonly SqlValue[] | Readonly<Record<string, SqlValue>>

/** A statement in the object form `@libsql/client` uses. Named keys may keep their prefix. */
export interface SqlStatement {
  readonly sql: string
  readonly args?: SqlArgs
}

/** The SQL handle `ctx.transaction` passes to its function. */
export interface TransactionClient {
  /**
   * Runs one SQL statement inside the step's transaction and returns its rows (`[]` for
   * statements that return none). Synchronous: the transaction is the engine's own. Takes
   * `(sql, args)` or `{ sql, args }`.
   *
   * Refused (`INVALID_INPUT`, failing the transaction): transaction control (`BEGIN`,
   * `COMMIT`, `ROLLBACK`, `SAVEPOINT`, `RELEASE`), `ATTACH`, `DETACH` and PRAGMA statements
   * other than the schema-reading ones (`table_info`, `table_xinfo`, `table_list`,
   * `index_list`, `index_info`, `index_xinfo`, `foreign_key_list`); `VACUUM` is refused by
   * SQLite inside a transaction. The transaction's statements share the engine's
   * `transactionTimeoutMs`; past it SQLite interrupts the statement and the transaction fails
   * with `STEP_TIMEOUT`.
   *
   * @example
   * tx.execute('INSERT INTO metrics VALUES (?, ?)', [runId, loss])
   * tx.execute({ sql: 'SELECT * FROM metrics WHERE run_id = :id', args: { id: runId } })
   */
  execute(statement: string | SqlStatement, args?: SqlArgs): SqlRow[]
}

/** Options of `ctx.startChild` / `ctx.child`. */
export interface ChildOptions {
  /** A queue declared in the app's `queues`; the default queue if absent. */
  readonly queue?: string
  /** Admission order within its queue, as `StartOptions.priority`. @default 0 */
  readonly priority?: number
  /** The partition of its queue, as `StartOptions.partitionKey`. */
  readonly partitionKey?: string
  /** The child's attributes, as `StartOptions.tags`. */
  readonly tags?: RunTags
  /** The child is cancelled this long after its start unless it ended. */
  readonly timeoutMs?: number
  /**
   * A detached child is not cancelled when its parent is (by `cancel` or its timeout); the
   * parent may still wait for its result. @default false
   */
  readonly detached?: boolean
}

/** A child run started by `ctx.startChild`. */
export interface ChildHandle<Output = JsonValue> {
  readonly runId: string
  /**
   * Waits durably for the child to end and returns its output. This is a ctx call of the
   * parent (it takes a sequence number); the parent is `waiting` meanwhile.
   *
   * @throws {TerminalError} `code: 'CHILD_FAILED'` if the child failed or was cancelled.
   */
  result(): Promise<Output>
}

/**
 * The durable API of a running workflow. Every call takes the next sequence number of the
 * run and is recorded in its journal. On replay (after a crash, restart, sleep or wait) a
 * recorded call returns its recorded value without doing its work again; a call whose name
 * differs from the recorded one fails the run with `NON_DETERMINISM`.
 *
 * While the engine closes, a ctx call does not return: the run stops there and continues on
 * the next open.
 */
export interface WorkflowContext {
  /** The run's id. */
  readonly runId: string
  /** The workflow's name. */
  readonly workflow: string

  /**
   * Runs `fn` and records its JSON result (or its final error) before returning it.
   *
   * Failure semantics: the result is committed before anything can depend on it (usually
   * before `step` resolves), so a completed step never runs again. A step in flight when the
   * process dies runs again on recovery (at-least-once): make its side effects idempotent.
   * While the run executes alone, its last step's result and the run's end commit together:
   * `step` resolves first and the commit follows before the run's next ctx call, its end or
   * the event loop's next turn, whichever comes first; a process death in that window (only
   * the workflow's synchronous code after the step ran in it) runs the step again, as if it
   * had been in flight. A throwing attempt is retried up to
   * `retries` times with `backoff`; the waits are durable (the run is `sleeping` with a
   * timer, and a restart continues them). `TerminalError`s are not retried. After the last
   * attempt the failure is recorded and `step` throws a `TerminalError` with the step's error
   * message (also on replay). A result that is not JSON fails the step at once with
   * `code: 'NOT_SERIALIZABLE'`. `undefined` is recorded as such; other values come back as
   * their JSON round-trip (e.g. `undefined` properties dropped).
   */
  step<T>(
    name: string,
    fn: (attempt: StepAttempt) => T | Promise<T>,
    options?: StepOptions,
  ): Promise<T>

  /**
   * Runs `fn` with SQL access to the tenant database; its writes and the step's checkpoint
   * commit in one SQLite transaction, so its effects happen exactly once, even across
   * SIGKILL. `fn` must be synchronous (the engine's write transaction is held while it runs,
   * so it must not await network or timers: do that in `ctx.step`); a function that returns
   * a promise fails the transaction (`INVALID_INPUT`) and the promise's later outcome is
   * ignored. If `fn` throws, its writes roll back, the failure is recorded and `transaction`
   * throws a `TerminalError` (no retries: SQL errors are deterministic). The same happens when
   * its SQL runs past the engine's `transactionTimeoutMs` (`STEP_TIMEOUT`), when `tx.execute`
   * refuses a statement, or when its SQL makes SQLite roll back the whole transaction (a
   * trigger's `RAISE(ROLLBACK)`, `INSERT OR ROLLBACK`), even if `fn` caught the error. Other
   * runs whose uncommitted writes that rollback took continue from their last committed
   * step. If the storage fails instead (`SQLITE_FULL`, an I/O error), nothing is recorded and
   * the run continues from its last committed step once writes succeed again. Replays return
   * the recorded result.
   */
  transaction<T>(
    name: string,
    fn: (tx: TransactionClient) => T extends PromiseLike<unknown> ? never : T,
  ): Promise<T>

  /**
   * Durable sleep: records the wake time, then the run is `sleeping` and leaves memory; a
   * timer (or the next open, or `Engine.nextWakeAt` for a hibernated tenant) continues it.
   * `duration` is milliseconds or an `ms` string such as `'10m'`.
   */
  sleep(duration: Duration): Promise<void>

  /**
   * Waits durably for the event `name` sent with `Engine.sendEvent`, and returns its payload
   * (`null` if sent without one). Events are queued per run and name, so an event sent
   * before the wait is found at once; each event is taken by one wait, oldest first. With
   * `timeoutMs`, resolves to `null` when it passes first (the timeout is durable too).
   */
  waitForEvent<T = JsonValue>(name: string, options?: { timeoutMs?: number }): Promise<T | null>

  /**
   * Starts a child run of `workflow` with its own journal; the start is recorded, so replays
   * return the same child instead of starting another (the options of a replayed call are
   * not compared: the recorded child is returned as it was started). The child runs on the
   * default queue unless `options.queue` says otherwise. Cancelling the parent (or its
   * timeout) cancels its unfinished children, unless started with `detached: true`; a parent
   * that ends on its own leaves unfinished children running.
   *
   * @throws {EngineError} `UNKNOWN_WORKFLOW`, `INVALID_INPUT` (recorded nothing).
   */
  startChild<Output = JsonValue>(
    workflow: string,
    input?: JsonValue,
    options?: ChildOptions,
  ): Promise<ChildHandle<Output>>

  /** `startChild` then `result()`: two ctx calls. */
  child<Output = JsonValue>(
    workflow: string,
    input?: JsonValue,
    options?: ChildOptions,
  ): Promise<Output>

  /**
   * Versioning: lets changed code run beside runs that went past this point under the old
   * code. `true` for a run that reaches this point for the first time under code that asks
   * (the answer is recorded as a `patch` journal entry, so its replays say `true` too), and
   * for every replay of such a run; `false` for a run whose journal already holds another
   * call at this point (it ran the old code here), without taking a sequence number, so the
   * old branch's calls replay where they were recorded. A run stopped inside a step at this
   * point (in flight at a crash, so not recorded) gets `true`: it had not passed the point.
   *
   * Three stages, as in Temporal and DBOS:
   * 1. `if (await ctx.patched('fast-loss')) { new code } else { old code }`: deploy. Runs
   *    past this point keep the old branch, every other run takes the new one.
   * 2. Once no run that started before stage 1 is unfinished: `await
   *    ctx.deprecatePatch('fast-loss'); new code` (the old branch is gone).
   * 3. Once no run that started before stage 2 is unfinished: delete the call.
   *
   * Names are per call site (1–128 characters); two `patched` calls with the same name at two
   * points record two markers.
   */
  patched(name: string): Promise<boolean>

  /**
   * Stage 2 of {@link patched}: the patched branch is the only code left. A run that recorded
   * this patch's marker here replays past it; any other run (including new ones) records
   * nothing, so once the runs with a marker ended the call can be deleted (stage 3). A run that
   * went past this point under the code before the patch (no marker) meets the new code's
   * calls where its journal recorded the old ones and fails with `NON_DETERMINISM`: deprecate
   * a patch only once such runs are finished.
   */
  deprecatePatch(name: string): Promise<void>

  /** The clock's time in epoch ms, recorded so replays see the same value. */
  now(): Promise<number>

  /** `Math.random()`, recorded. */
  random(): Promise<number>

  /** A random UUID, recorded. */
  uuid(): Promise<string>
}
