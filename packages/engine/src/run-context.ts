import { randomUUID } from 'node:crypto'
import type { AppDefinition, QueueDefinition } from './app.js'
import { startChild, waitForChild } from './child.js'
import { toMs, type Duration } from './duration.js'
import { EngineError } from './engine-error.js'
import type { GroupCommit } from './group-commit.js'
import type { Journal, StepRow } from './journal.js'
import { fromJsonText, toJsonText, type JsonValue } from './json.js'
import type { EngineObserver } from './observer.js'
import type { StepKind } from './run.js'
import { deprecatePatch, patched } from './patch.js'
import { failureOf } from './recorded-error.js'
import type { RunStore } from './run-store.js'
import type { RunTagStore } from './run-tags.js'
import { CancelSignal, SuspendSignal } from './signal.js'
import { waitForEvent } from './event-wait.js'
import { runStep } from './step.js'
import type { RunTrace } from './tracing.js'
import { runTransaction } from './transaction.js'
import type { TransactionStatements } from './transaction-statements.js'
import type {
  ChildHandle,
  ChildOptions,
  StepAttempt,
  StepOptions,
  TransactionClient,
  WorkflowContext,
} from './workflow-context.js'

/** What a run context needs from the engine. */
export interface RunHost {
  readonly writer: GroupCommit
  readonly journal: Journal
  readonly runs: RunStore
  readonly clock: () => number
  readonly observer: EngineObserver | undefined
  /** The prepared statements of `ctx.transaction` (savepoint and the app's own SQL). */
  readonly transactionStatements: TransactionStatements
  /** Time budget of one `ctx.transaction`'s SQL, enforced inside SQLite. */
  readonly transactionTimeoutMs: number
  /** The tag index, for child runs started with tags. */
  readonly tags: RunTagStore
  /** The app (per-workflow defaults of child runs). */
  readonly app: AppDefinition
  isClosing(): boolean
  /** Resolves once everything committed so far is durable beyond this machine (gate). */
  confirmDurable(): Promise<void>
  hasWorkflow(name: string): boolean
  /** The app's workflow names, for "did you mean" hints. */
  workflowNames(): Iterable<string>
  hasQueue(name: string): boolean
  queueDefinition(name: string | null): QueueDefinition | undefined
  /** Makes sure the in-process timer fires by `wakeAtMs`. */
  armTimer(wakeAtMs: number): void
  /** Executes (or re-executes) a run soon. */
  schedule(runId: string, row?: undefined, fresh?: boolean): void
}

/** An entry point into the journal for one ctx call. */
export interface CallSlot {
  seq: number
  record: StepRow | undefined
}

/**
 * The implementation of {@link WorkflowContext} for one execution of one run: hands out
 * sequence numbers, matches them against the journal loaded when the execution began, and
 * writes new records through the group commit.
 *
 * Every write of a run is committed before the run's code goes on (each call awaits
 * {@link durable} after writing), so when a batch is lost only the runs that wrote in it are
 * affected, and each of them is halted at that await: none continues on records that no
 * longer exist. The one exception is the checkpoint of a step that succeeded while the run
 * commits alone ({@link deferCheckpoint}): the workflow's code gets the result at once, and
 * the checkpoint is committed before anything can depend on it (the run's next ctx call, its
 * end, in the same transaction, or the event loop's next turn, whichever comes first).
 *
 * A run recovered on probation (see recovery.ts) passes `onProgress`: its first durable write
 * (a journal record or a suspension) also clears its crash count, and once that commits,
 * `onProgress` lets the next run start.
 */
export class RunContext implements WorkflowContext {
  readonly runId: string
  readonly workflow: string
  readonly host: RunHost
  readonly #journal: Map<number, StepRow>
  #seq = 0
  #halt: Error | null = null
  #cancelRequested = false
  #onProgress: (() => void) | null
  /** The checkpoint {@link deferCheckpoint} holds back, not written yet. */
  #pending: StepRow | null = null
  #flushScheduled = false
  /** This execution's span, when an OpenTelemetry SDK records (see tracing.ts). */
  trace: RunTrace | undefined = undefined

  constructor(
    host: RunHost,
    runId: string,
    workflow: string,
    journal: StepRow[],
    onProgress: (() => void) | null = null,
  ) {
    this.host = host
    this.runId = runId
    this.workflow = workflow
    this.#journal = new Map(journal.map((row) => [row.seq, row]))
    this.#onProgress = onProgress
  }

  /** Why the run stopped (suspend, cancel, non-determinism), once it did. */
  get halted(): Error | null {
    return this.#halt
  }

  /** Makes the next ctx call stop the run with a cancellation. */
  requestCancel(): void {
    this.#cancelRequested = true
  }

  /**
   * Takes the next sequence number for a call of `kind` named `name` and returns its record,
   * if any. Stops the run instead when it was halted, cancelled, or the engine is closing.
   */
  enter(kind: StepKind, name: string): CallSlot {
    if (this.#pending !== null) this.flushPending()
    this.mayContinue()
    const seq = ++this.#seq
    const record = this.#journal.get(seq)
    if (record !== undefined && (record.name !== name || record.kind !== kind)) {
      this.halt(nonDeterminism(this, seq, `${kind} '${name}'`, `${record.kind} '${record.name}'`))
    }
    return { seq, record }
  }

  /**
   * Stops the run here if it was halted, cancelled, or the engine is closing (what every ctx
   * call checks first; a gated step checks again after its wait).
   */
  mayContinue(): void {
    if (this.#halt !== null) throw this.#halt
    if (this.#cancelRequested) this.halt(new CancelSignal())
    if (this.host.isClosing()) this.halt(new SuspendSignal('close'))
  }

  /**
   * The journal record of the next call, without taking its sequence number (`ctx.patched`
   * decides from it whether the run went past this point under older code).
   */
  peekNext(): StepRow | undefined {
    if (this.#halt !== null) throw this.#halt
    return this.#journal.get(this.#seq + 1)
  }

  /** Stops the run for good in this execution; every later ctx call rethrows `error`. */
  halt(error: Error): never {
    this.#halt = error
    throw error
  }

  /** Writes the record of call `seq` (in the current batch; await `durable()` to commit). */
  record(row: StepRow): void {
    this.#journal.set(row.seq, row)
    this.#write(() => this.host.journal.put(this.runId, row), 'record call #', row.seq)
  }

  /**
   * Holds back the checkpoint of a step that succeeded, so that a run which ends right after
   * its last step commits that checkpoint and its end together (one commit instead of two; see
   * Executor#finish). Only while the run commits alone (no batch open, at most one run
   * executes, not on probation): then the checkpoint's write would have autocommitted, and the
   * step returns without waiting for it. Returns false otherwise: the caller records it and
   * awaits {@link durable} as usual.
   *
   * What may depend on the step's result waits for the checkpoint: the run's next ctx call
   * (its {@link enter} writes it first, so a next step's side effect never runs on a result
   * that is not committed), the run's end (the same transaction, before any status, waiter or
   * observer sees the end) and, if the workflow awaits something else, the event loop's next
   * turn (`process.nextTick` runs once the microtask queue is empty, before any I/O or timer).
   * A process death before that re-runs the step on recovery, as for a step in flight: only
   * the workflow's own synchronous code after the step has seen the result, and that code is
   * replayed deterministically.
   */
  deferCheckpoint(row: StepRow): boolean {
    if (this.#halt !== null || this.#onProgress !== null || !this.host.writer.commitsAlone)
      return false
    if (this.#pending !== null) this.flushPending()
    this.#journal.set(row.seq, row)
    this.#pending = row
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      process.nextTick(() => this.#flushBeforeNextTurn())
    }
    return true
  }

  /** The held-back checkpoint, taken to be written with the run's end (see Executor#finish). */
  takePending(): StepRow | null {
    const row = this.#pending
    this.#pending = null
    return row
  }

  /**
   * Writes the held-back checkpoint and commits it before returning (the run goes on right
   * after): alone it autocommits; if a batch opened meanwhile, it joins it and the batch
   * commits now. A failure halts the run with `STORAGE_FAILED`: it replays from what is
   * committed, and the step runs again.
   */
  flushPending(): void {
    const row = this.takePending()
    if (row === null) return
    const { writer, journal } = this.host
    const alone = writer.commitsAlone
    this.#write(() => journal.put(this.runId, row), 'record call #', row.seq)
    if (alone) return
    try {
      writer.commitNow()
    } catch (error) {
      this.halt(error as Error)
    }
  }

  #flushBeforeNextTurn(): void {
    this.#flushScheduled = false
    try {
      this.flushPending()
    } catch {
      // Halted: the run's next ctx call or its end (Executor#replay) sees `halted`.
    }
  }

  /** Writes the record of call `seq` as part of a caller's `write` closure (same commit). */
  recordWithin(row: StepRow): void {
    this.#journal.set(row.seq, row)
    this.host.journal.put(this.runId, row)
    if (this.#onProgress !== null) this.#progressWithin()
  }

  /** Resolves once everything this run wrote is committed. */
  durable(): Promise<void> {
    // A failed commit loses records this context already holds in memory, so the execution
    // must not go on: halt it, and the run replays from what is committed.
    return this.host.writer.durable().then(undefined, (error: Error) => this.halt(error))
  }

  /** Parks the run as `sleeping`/`waiting` (with an optional timer) and stops this execution. */
  async suspend(
    status: 'sleeping' | 'waiting',
    wakeAtMs: number | null,
    reason: SuspendSignal['reason'],
  ): Promise<never> {
    const { runs, clock } = this.host
    const changed = this.#write(
      () => runs.setStatus(this.runId, status, wakeAtMs, clock()),
      'suspend as ',
      status,
    )
    await this.durable()
    if (changed) this.host.observer?.onRunStatus?.(this.runId, this.workflow, status)
    if (wakeAtMs !== null) this.host.armTimer(wakeAtMs)
    return this.halt(new SuspendSignal(reason))
  }

  /**
   * One single-statement write of this run; a failure halts the run with `STORAGE_FAILED`
   * (an engine write failing is the storage's fault, never the run's). `what` + `detail` say
   * what was written, joined only on failure (a string built per step showed in profiles).
   */
  #write<T>(write: () => T, what: string, detail: string | number): T {
    const { writer } = this.host
    try {
      if (this.#onProgress === null) return writer.writeOne(write)
      return writer.write(() => {
        const result = write()
        this.#progressWithin()
        return result
      })
    } catch (error) {
      return this.halt(
        error instanceof EngineError
          ? error
          : new EngineError(
              'STORAGE_FAILED',
              `${what}${detail} of run ${this.runId}: ${(error as Error).message}`,
              { cause: error },
            ),
      )
    }
  }

  /**
   * On probation, the run's first write that shows progress also clears its crash count (in
   * the same transaction), and its commit releases the probation.
   */
  #progressWithin(): void {
    const onProgress = this.#onProgress
    if (onProgress === null) return
    this.#onProgress = null
    this.host.runs.clearCrashCount(this.runId)
    this.host.writer.durable().then(onProgress, () => undefined)
  }

  /** Replays a recorded call: its value, or its failure as a `TerminalError`. */
  replay<T>(record: StepRow): T {
    if (record.status === 'failed') throw failureOf(record.error)
    return fromJsonText(record.output) as T
  }

  step<T>(
    name: string,
    fn: (attempt: StepAttempt) => T | Promise<T>,
    options?: StepOptions,
  ): Promise<T> {
    return runStep(this, name, fn, options)
  }

  transaction<T>(
    name: string,
    fn: (tx: TransactionClient) => T extends PromiseLike<unknown> ? never : T,
  ): Promise<T> {
    return runTransaction(this, name, fn)
  }

  async sleep(duration: Duration): Promise<void> {
    const delayMs = toMs(duration, 'duration')
    const { seq, record } = this.enter('sleep', 'sleep')
    if (record?.status === 'succeeded') return
    const nowMs = this.host.clock()
    const wakeAtMs =
      record === undefined ? nowMs + delayMs : (fromJsonText(record.output) as number)
    if (nowMs >= wakeAtMs) {
      this.record(sleepRow(seq, wakeAtMs, record?.started_at ?? nowMs, 'succeeded', nowMs))
      return this.durable()
    }
    if (record === undefined) this.record(sleepRow(seq, wakeAtMs, nowMs, 'sleeping', null))
    return this.suspend('sleeping', wakeAtMs, 'sleep')
  }

  waitForEvent<T = JsonValue>(name: string, options?: { timeoutMs?: number }): Promise<T | null> {
    return waitForEvent<T>(this, name, options)
  }

  startChild<Output = JsonValue>(
    workflow: string,
    input?: JsonValue,
    options?: ChildOptions,
  ): Promise<ChildHandle<Output>> {
    return startChild<Output>(this, workflow, input, options)
  }

  async child<Output = JsonValue>(
    workflow: string,
    input?: JsonValue,
    options?: ChildOptions,
  ): Promise<Output> {
    const handle = await startChild<Output>(this, workflow, input, options)
    return handle.result()
  }

  /** Waits for a child started by this run; used by {@link ChildHandle.result}. */
  childResult<Output>(childRunId: string, workflow: string): Promise<Output> {
    return waitForChild<Output>(this, childRunId, workflow)
  }

  patched(name: string): Promise<boolean> {
    return patched(this, name)
  }

  deprecatePatch(name: string): Promise<void> {
    return deprecatePatch(this, name)
  }

  now(): Promise<number> {
    return this.#recorded('now', () => this.host.clock())
  }

  random(): Promise<number> {
    return this.#recorded('random', () => Math.random())
  }

  uuid(): Promise<string> {
    return this.#recorded('uuid', () => randomUUID())
  }

  async #recorded<T extends JsonValue>(kind: 'now' | 'random' | 'uuid', make: () => T): Promise<T> {
    const { seq, record } = this.enter(kind, kind)
    if (record !== undefined) return this.replay<T>(record)
    const value = make()
    const nowMs = this.host.clock()
    this.record({
      seq,
      name: kind,
      kind,
      status: 'succeeded',
      attempts: 0,
      output: toJsonText(value, kind),
      error: null,
      started_at: nowMs,
      ended_at: nowMs,
    })
    await this.durable()
    return value
  }
}

/**
 * The `NON_DETERMINISM` error of a replay whose call #`seq` differs from its record: it names
 * the first differing call (every earlier one matched) and the app versions the run started
 * and now replays under, the likeliest cause being a deploy between the two.
 */
function nonDeterminism(ctx: RunContext, seq: number, call: string, recorded: string): EngineError {
  const current = ctx.host.runs.appVersion
  const started = ctx.host.runs.get(ctx.runId)?.app_version ?? null
  const versions =
    started === null || current === null
      ? ''
      : started === current
        ? ` The run started under app version ${started}, the version replaying it.`
        : ` The run started under app version ${started} and replays under ${current}: guard the change with \`if (await ctx.patched('<name>'))\` so runs already past this point keep their calls.`
  return new EngineError(
    'NON_DETERMINISM',
    `replay workflow ${ctx.workflow} run ${ctx.runId}: call #${seq} is ${call} but the journal recorded ${recorded} (the first call that differs).${versions} The workflow code changed or branches on something outside ctx: revert the change, or fork the run from step ${seq}`,
  )
}

function sleepRow(
  seq: number,
  wakeAtMs: number,
  startedAt: number,
  status: 'sleeping' | 'succeeded',
  endedAt: number | null,
): StepRow {
  return {
    seq,
    name: 'sleep',
    kind: 'sleep',
    status,
    attempts: 0,
    output: JSON.stringify(wakeAtMs),
    error: null,
    started_at: startedAt,
    ended_at: endedAt,
  }
}
