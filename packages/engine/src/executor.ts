import type { AppDefinition, QueueDefinition } from './app.js'
import { EngineError } from './engine-error.js'
import type { GroupCommit } from './group-commit.js'
import type { Journal, StepRow } from './journal.js'
import { fromJsonText, toNullableJsonText } from './json.js'
import type { EngineObserver } from './observer.js'
import { RunQueue } from './queue-admission.js'
import { isFinished } from './run.js'
import { errorText } from './recorded-error.js'
import { RunContext, type RunHost } from './run-context.js'
import { timeoutErrorText, type RunDeadlines } from './run-deadline.js'
import type { RunRow, RunStore } from './run-store.js'
import type { RunTagStore } from './run-tags.js'
import { CancelSignal, SuspendSignal } from './signal.js'
import { DurableTimer } from './timer.js'
import {
  activeTraceContext,
  endRunTrace,
  startRunTrace,
  withoutTraceContext,
  withRunTrace,
  type TraceContext,
} from './tracing.js'
import type { TransactionStatements } from './transaction-statements.js'
import { inputSchemaOf, workflowFn, type StandardSchemaV1 } from './workflow-definition.js'

/** First wait before a run whose writes were lost (a failed or rolled-back batch) runs again. */
export const STORAGE_RETRY_INITIAL_MS = 10
/** Longest wait between such retries (they go on while the storage keeps failing). */
export const STORAGE_RETRY_MAX_MS = 5_000

interface Execution {
  runId: string
  /** A run just inserted by `start`: its row is known and its journal is empty. */
  fresh: RunRow | null
  /** The queue it is admitted by (the run's queue, or the default one). */
  queue: RunQueue
  /** Admission order: the run's priority, then its `lc_runs.id`. */
  priority: number
  order: number
  partition: string | null
  /** Held back until the run on probation made progress (see {@link Executor.beginProbation}). */
  held: boolean
  started: boolean
  rerun: boolean
  cancelRequested: boolean
  ctx: RunContext | null
  /** The context that scheduled it (a request's span): the parent of the run's span. */
  traceParent: TraceContext
  done: Promise<void> | null
}

/** Dependencies of the executor. */
export interface ExecutorOptions {
  readonly app: AppDefinition
  readonly writer: GroupCommit
  readonly journal: Journal
  readonly runs: RunStore
  readonly clock: () => number
  readonly observer: EngineObserver | undefined
  /** Attributes of every run and step span (see `EngineOptions.traceAttributes`). */
  readonly traceAttributes?: Readonly<Record<string, string>> | undefined
  readonly concurrency: number
  readonly transactionStatements: TransactionStatements
  readonly transactionTimeoutMs: number
  /** The output gate's hook (see `EngineOptions.confirmDurable`). */
  readonly confirmDurable?: ((signal: AbortSignal) => Promise<void>) | undefined
  readonly tags: RunTagStore
  readonly deadlines: RunDeadlines
}

/**
 * Runs workflow executions: one {@link RunQueue} per queue (admission by priority, with
 * concurrency, partition and rate limits; the default queue sized by the engine's
 * `concurrency`), at most one execution per run at a time, the durable timer (sleeps, waits,
 * debounced starts and run deadlines), and the
 * notifications that follow a run's end (result waiters, the parent of a child, idle waiters).
 *
 * An execution replays the run from its journal and goes until the run ends or suspends.
 * A wake-up that arrives while the run executes (an event, a child's end, a due timer) marks
 * the execution for a re-run instead of starting a second one. An execution that ends on a
 * storage failure (its writes were not committed) runs again after a backoff, from what is
 * committed.
 *
 * Before a run's code executes, the run is `running` in the database (committed), so that a
 * process death during it is attributed to it at the next open (see recovery.ts).
 */
export class Executor implements RunHost {
  readonly writer: GroupCommit
  readonly journal: Journal
  readonly runs: RunStore
  readonly clock: () => number
  readonly observer: EngineObserver | undefined
  readonly transactionStatements: TransactionStatements
  readonly transactionTimeoutMs: number
  readonly tags: RunTagStore
  readonly deadlines: RunDeadlines
  readonly #app: AppDefinition
  readonly #queues = new Map<string | null, RunQueue>()
  readonly #queueDefinitions: Readonly<Record<string, QueueDefinition>>
  readonly #active = new Map<string, Execution>()
  readonly #timer: DurableTimer
  readonly #endWaiters = new Map<string, Set<() => void>>()
  readonly #retries = new Map<string, { attempt: number; timer: NodeJS.Timeout | null }>()
  /** Suspects still to recover on probation, in order; see {@link beginProbation}. */
  #suspects: string[] = []
  /** The run on probation now, or null when every run may execute. */
  #onProbation: string | null = null
  #held: Execution[] = []
  #idleWaiters: (() => void)[] = []
  #executing = 0
  #closing = false
  readonly #traceAttributes: Readonly<Record<string, string>> | undefined
  readonly #confirmDurable: ((signal: AbortSignal) => Promise<void>) | undefined
  /** Aborted when the engine begins to close: gated steps stop waiting for the replica. */
  readonly #closingSignal = new AbortController()

  constructor(options: ExecutorOptions) {
    this.#app = options.app
    this.writer = options.writer
    this.journal = options.journal
    this.runs = options.runs
    this.clock = options.clock
    this.observer = options.observer
    this.#traceAttributes = options.traceAttributes
    this.transactionStatements = options.transactionStatements
    this.transactionTimeoutMs = options.transactionTimeoutMs
    this.#confirmDurable = options.confirmDurable
    this.tags = options.tags
    this.deadlines = options.deadlines
    // A timer keeps the context that armed it (some earlier request): runs it wakes start a
    // trace of their own instead of joining that request's.
    this.#timer = new DurableTimer(options.clock, () => withoutTraceContext(() => this.scanDue()))
    this.#queues.set(null, new RunQueue({ concurrency: options.concurrency }))
    this.#queueDefinitions = options.app.queues ?? {}
    for (const [name, queue] of Object.entries(this.#queueDefinitions)) {
      this.#queues.set(name, new RunQueue(queue))
    }
  }

  isClosing(): boolean {
    return this.#closing
  }

  /** Everything committed so far is durable beyond this machine (the output gate's wait). */
  confirmDurable(): Promise<void> {
    if (this.#confirmDurable === undefined) return Promise.resolve()
    if (this.#closing) return Promise.reject(this.#closingSignal.signal.reason)
    return this.#confirmDurable(this.#closingSignal.signal)
  }

  hasWorkflow(name: string): boolean {
    return Object.hasOwn(this.#app.workflows, name)
  }

  workflowNames(): string[] {
    return Object.keys(this.#app.workflows)
  }

  /** The input schema of a workflow of the app, if it declares one. */
  inputSchema(name: string): StandardSchemaV1 | undefined {
    return Object.hasOwn(this.#app.workflows, name) ? inputSchemaOf(this.#app.workflows[name]) : undefined
  }

  hasQueue(name: string): boolean {
    return this.#queues.has(name)
  }

  /** The app's definition of a named queue (`undefined` for the default one or unknown names). */
  queueDefinition(name: string | null): QueueDefinition | undefined {
    return name === null || !Object.hasOwn(this.#queueDefinitions, name)
      ? undefined
      : this.#queueDefinitions[name]
  }

  /** The app's per-workflow defaults. */
  get app(): AppDefinition {
    return this.#app
  }

  /** Runs executing, queued, held back or waiting to retry in this process. */
  get activeCount(): number {
    return this.#active.size + this.#pendingRetries()
  }

  /** True while this process has the run executing, queued, held or waiting to retry. */
  isActive(runId: string): boolean {
    return this.#active.has(runId) || this.#retries.has(runId)
  }

  /** Runs executing right now (started and not yet ended or suspended). */
  get executingCount(): number {
    return this.#executing
  }

  /**
   * True if a plain run of `queue` scheduled now would start executing at once (synchronously,
   * in {@link schedule}): not closing, no probation, and its queue admits it.
   */
  executesAtOnce(queue: string | null): boolean {
    if (this.#closing || this.#onProbation !== null) return false
    return (this.#queues.get(queue) ?? (this.#queues.get(null) as RunQueue)).admitsAtOnce()
  }

  armTimer(wakeAtMs: number): void {
    if (!this.#closing) this.#timer.arm(wakeAtMs)
  }

  /**
   * Executes a run soon; if it is executing now, once more after that. `fresh` says `row` was
   * just inserted (no journal to load, no row to re-read).
   */
  schedule(runId: string, row?: RunRow, fresh = false): void {
    if (this.#closing) return
    const existing = this.#active.get(runId)
    if (existing !== undefined) {
      // A queued execution reads the run's state when it starts; only a started one needs
      // another pass to see what changed.
      if (existing.started) existing.rerun = true
      return
    }
    const known = row ?? this.runs.get(runId)
    if (known === undefined) return
    const execution: Execution = {
      runId,
      fresh: fresh && row !== undefined ? row : null,
      queue: this.#queues.get(known.queue) ?? (this.#queues.get(null) as RunQueue),
      priority: known.priority ?? 0,
      order: known.id,
      partition: known.partition_key ?? null,
      held: false,
      started: false,
      rerun: false,
      cancelRequested: false,
      ctx: null,
      traceParent: activeTraceContext(),
      done: null,
    }
    this.#active.set(runId, execution)
    if (this.#onProbation !== null && runId !== this.#onProbation) {
      execution.held = true
      this.#held.push(execution)
      return
    }
    this.#enqueue(runId, execution)
  }

  #enqueue(runId: string, execution: Execution): void {
    execution.held = false
    execution.queue.add({
      priority: execution.priority,
      order: execution.order,
      partition: execution.partition,
      start: () => (execution.done = this.#execute(runId, execution)),
    })
  }

  /**
   * Recovers `suspects` (runs that were executing when earlier processes died, most crashes
   * first) on probation, one at a time, before any other run executes: every other execution
   * is held back until the run on probation made durable progress (its first new journal
   * record or a suspension committed) or its execution ended, then the next suspect goes, and
   * after the last one everything held. So if a suspect kills the process again, it is the
   * only run executing and the only one blamed: innocent runs that happened to execute beside
   * a poison run never add up crashes.
   */
  beginProbation(suspects: readonly string[]): void {
    this.#suspects = [...suspects]
    this.#admitNextSuspect()
  }

  /** The run on probation, if any (tests and the executions' own wiring read it). */
  get onProbation(): string | null {
    return this.#onProbation
  }

  #admitNextSuspect(): void {
    for (;;) {
      const runId = this.#suspects.shift()
      if (runId === undefined) break
      const row = this.runs.get(runId)
      if (row === undefined || row.status !== 'pending' || row.crash_count === 0) continue
      this.#onProbation = runId
      const held = this.#active.get(runId)
      if (held === undefined) this.schedule(runId, row)
      else if (held.held) {
        this.#held.splice(this.#held.indexOf(held), 1)
        this.#enqueue(runId, held)
      }
      return
    }
    this.#onProbation = null
    const held = this.#held
    this.#held = []
    if (this.#closing) return
    for (const execution of held) {
      if (this.#active.get(execution.runId) === execution) this.#enqueue(execution.runId, execution)
    }
  }

  /** The run on probation made durable progress or stopped executing: the next one may go. */
  #endProbation(runId: string): void {
    if (this.#onProbation === runId) this.#admitNextSuspect()
  }

  /**
   * Cancels the runs past their deadline, schedules the runs whose timers are due and re-arms
   * the timer for the next timer or deadline.
   */
  scanDue(): void {
    if (this.#closing) return
    const nowMs = this.clock()
    this.expireDeadlines(nowMs)
    for (const runId of this.runs.due(nowMs)) this.schedule(runId)
    const next = this.runs.earliestWakeAt(nowMs)
    const deadline = this.deadlines.earliest(nowMs)
    if (next !== null) this.#timer.arm(next)
    if (deadline !== null) this.#timer.arm(deadline)
  }

  /**
   * Cancels every unfinished run past its deadline, with its non-detached descendants
   * (`RUN_TIMEOUT`). A failed write leaves the deadline for the next scan.
   */
  expireDeadlines(nowMs: number): void {
    for (const run of this.deadlines.expired(nowMs)) {
      this.cancelTree(run.run_id, timeoutErrorText(run)).catch(() => undefined)
    }
  }

  /**
   * Cancels a run (recording `error`) and its unfinished non-detached descendants: commits
   * it, then stops their executions at their next ctx call and tells waiters; the cancelled
   * run's parent is woken, as after any end of a child.
   *
   * @throws {EngineError} `STORAGE_FAILED` if the cancellation did not commit.
   */
  async cancelTree(runId: string, error: string): Promise<void> {
    const cancelled = this.writer.writeOne(() => this.runs.cancelTree(runId, error, this.clock()))
    await this.writer.durable()
    for (const run of cancelled) {
      this.requestCancel(run.run_id)
      this.observer?.onRunStatus?.(run.run_id, run.workflow, 'cancelled')
      this.notifyEnd(run.run_id, run.run_id === runId ? run.parent_run_id : null)
    }
  }

  /** Stops an executing run at its next ctx call (its status is already `cancelled`). */
  requestCancel(runId: string): void {
    const execution = this.#active.get(runId)
    if (execution === undefined) return
    execution.cancelRequested = true
    execution.ctx?.requestCancel()
  }

  /** Resolves when the run ends (call only for unfinished runs). */
  onEnd(runId: string, listener: () => void): () => void {
    let listeners = this.#endWaiters.get(runId)
    if (listeners === undefined) this.#endWaiters.set(runId, (listeners = new Set()))
    listeners.add(listener)
    return () => {
      listeners.delete(listener)
      if (listeners.size === 0 && this.#endWaiters.get(runId) === listeners) {
        this.#endWaiters.delete(runId)
      }
    }
  }

  /** Tells result waiters and the parent that a run ended (after the end is committed). */
  notifyEnd(runId: string, parentRunId: string | null): void {
    const listeners = this.#endWaiters.get(runId)
    if (listeners !== undefined) {
      this.#endWaiters.delete(runId)
      for (const listener of listeners) listener()
    }
    if (parentRunId !== null) this.wake(parentRunId)
  }

  /** Wakes a waiting run (event sent, child ended); a running one re-runs after suspending. */
  wake(runId: string): void {
    if (this.#active.has(runId)) return this.schedule(runId)
    const row = this.runs.get(runId)
    if (row !== undefined && row.status === 'waiting') this.schedule(runId, row)
  }

  /** Resolves when no run executes or is queued and no timer is due now. */
  async idle(): Promise<void> {
    for (;;) {
      this.scanDue()
      if (this.#active.size === 0 && this.#pendingRetries() === 0) break
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve))
    }
    await this.writer.durable()
  }

  /**
   * Starts no new executions, drops queued ones, and waits until executing runs reach their
   * next ctx call (where they stop without writing; the next open continues them), or until
   * `timeoutMs` passes: runs still inside a step are then abandoned in memory (their step runs
   * again after the next open, at-least-once).
   */
  async close(timeoutMs?: number): Promise<void> {
    this.#closing = true
    this.#closingSignal.abort(new EngineError('ENGINE_CLOSED', 'the engine is closing'))
    this.#timer.disarm()
    for (const queue of this.#queues.values()) queue.clear()
    for (const retry of this.#retries.values()) if (retry.timer !== null) clearTimeout(retry.timer)
    this.#retries.clear()
    this.#held = []
    const running: Promise<void>[] = []
    for (const [runId, execution] of this.#active) {
      if (!execution.started) this.#active.delete(runId)
      else if (execution.done !== null) running.push(execution.done)
    }
    const settled = Promise.allSettled(running)
    if (timeoutMs === undefined) {
      await settled
    } else {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        settled,
        new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ])
      clearTimeout(timer)
    }
    this.#releaseIdle()
  }

  /** Runs whose execution is still in progress (after a close, the ones it abandoned). */
  executingRunIds(): string[] {
    return [...this.#active].filter(([, execution]) => execution.started).map(([runId]) => runId)
  }

  /** Listeners still waiting for runs to end, so close can answer them. */
  takeEndWaiters(): (() => void)[] {
    const all = [...this.#endWaiters.values()].flatMap((set) => [...set])
    this.#endWaiters.clear()
    return all
  }

  async #execute(runId: string, execution: Execution): Promise<void> {
    execution.started = true
    this.#executing++
    let storageFailed = false
    try {
      await this.#replay(runId, execution)
    } catch (error) {
      // Only storage failures (a batch that failed to commit or that SQLite rolled back, see
      // GroupCommit) and writes racing close get here: the run's writes since its last commit
      // are gone, and so is this execution's memory of them. It runs again from what is
      // committed (or, after close, on the next open).
      storageFailed = (error as { code?: unknown }).code === 'STORAGE_FAILED'
    } finally {
      this.#executing--
      const runTrace = execution.ctx?.trace
      if (runTrace !== undefined) endRunTrace(runTrace, this.runs.get(runId)?.status)
      this.#active.delete(runId)
      if (this.#onProbation === runId) this.#endProbation(runId)
      if (storageFailed && !this.#closing) this.#retryLater(runId)
      else {
        const retry = this.#retries.get(runId)
        if (retry?.timer) clearTimeout(retry.timer)
        this.#retries.delete(runId)
        if (execution.rerun && !this.#closing) this.schedule(runId)
      }
      if (this.#active.size === 0) this.#releaseIdle()
    }
  }

  /**
   * Executes a run again after a storage failure, with a growing wait: at once nearly (its
   * batch was rolled back by another run's SQL), up to every {@link STORAGE_RETRY_MAX_MS} while
   * the storage keeps failing (a full disk). The run counts as active meanwhile.
   */
  #retryLater(runId: string): void {
    const attempt = (this.#retries.get(runId)?.attempt ?? 0) + 1
    const delayMs = Math.min(STORAGE_RETRY_INITIAL_MS * 2 ** (attempt - 1), STORAGE_RETRY_MAX_MS)
    const retry = { attempt, timer: null as NodeJS.Timeout | null }
    retry.timer = setTimeout(() => {
      retry.timer = null
      if (!this.#closing) this.schedule(runId)
      if (this.#active.size === 0) this.#releaseIdle()
    }, delayMs)
    this.#retries.set(runId, retry)
  }

  #pendingRetries(): number {
    let pending = 0
    for (const retry of this.#retries.values()) if (retry.timer !== null) pending++
    return pending
  }

  #releaseIdle(): void {
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  async #replay(runId: string, execution: Execution): Promise<void> {
    const row = execution.fresh ?? this.runs.get(runId)
    if (row === undefined || isFinished(row.status) || this.#closing) return
    // A debounced run whose start moved later (a start of its burst came in while it was
    // queued) is not due yet: its timer runs it then.
    if (row.status === 'sleeping' && row.wake_at !== null && row.wake_at > this.clock()) {
      return this.armTimer(row.wake_at)
    }
    const entry = this.#app.workflows[row.workflow]
    const fn = entry === undefined ? undefined : workflowFn(entry)
    if (fn === undefined || !this.hasWorkflow(row.workflow)) {
      const error = new EngineError(
        'UNKNOWN_WORKFLOW',
        `execute run ${runId}: no workflow named \`${row.workflow}\` in the app; deploy an app that has it, then resume the run`,
      )
      return this.#finish(row, 'failed', null, errorText(error))
    }
    const ctx = new RunContext(
      this,
      runId,
      row.workflow,
      execution.fresh === null ? this.journal.load(runId) : [],
      this.#onProbation === runId ? () => this.#endProbation(runId) : null,
    )
    execution.ctx = ctx
    ctx.trace = startRunTrace(execution.traceParent, this.#traceAttributes, runId, row.workflow)
    if (execution.cancelRequested) ctx.requestCancel()
    if (execution.fresh?.status === 'running') {
      // Engine#start inserted it `running`: the mark below was committed with the insert.
      this.observer?.onRunStatus?.(runId, row.workflow, 'running')
    } else if (row.status !== 'running') {
      // Committed before the workflow's code runs: if that code kills the process, the next
      // open finds the run `running` and counts the crash against it (see recovery.ts). Alone,
      // the run autocommits this (GroupCommit#writeOne); beside others it shares their batch.
      // Attribution needs it to survive a process crash only: no fsync of its own with FULL.
      const changed = this.writer.writeOneUnsynced(() =>
        this.runs.setStatus(runId, 'running', null, this.clock()),
      )
      if (this.writer.inTransaction) await ctx.durable()
      if (!changed) return
      this.observer?.onRunStatus?.(runId, row.workflow, 'running')
    }
    let output: unknown
    let failure: unknown
    let failed = false
    try {
      const input = fromJsonText(row.input) ?? null
      output = await (ctx.trace === undefined ? fn(ctx, input) : withRunTrace(ctx.trace, () => fn(ctx, input)))
    } catch (error) {
      failed = true
      failure = error
    }
    const halted = ctx.halted
    if (halted instanceof SuspendSignal || halted instanceof CancelSignal) {
      // Its ctx call wrote any held-back checkpoint before halting; this covers a workflow
      // that caught the halt and ended on its own.
      ctx.flushPending()
      await this.writer.durable()
      return
    }
    if (halted !== null) {
      failed = true
      failure = halted
    }
    if (
      failure instanceof EngineError &&
      (failure.code === 'STORAGE_FAILED' || failure.code === 'ENGINE_CLOSED')
    )
      throw failure
    let outputText: string | null = null
    if (!failed) {
      try {
        outputText = toNullableJsonText(
          output,
          `the output of workflow '${row.workflow}'`,
          'NOT_SERIALIZABLE',
        )
      } catch (error) {
        failed = true
        failure = error
      }
    }
    return failed
      ? this.#finish(row, 'failed', null, errorText(failure), ctx.takePending())
      : this.#finish(row, 'succeeded', outputText, null, ctx.takePending())
  }

  /**
   * Ends the run, committed before anyone hears of it. `checkpoint` is the last step's
   * checkpoint its context held back (RunContext#deferCheckpoint): the run ended right after
   * that step, so both commit in one transaction.
   */
  async #finish(
    row: RunRow,
    status: 'succeeded' | 'failed',
    output: string | null,
    error: string | null,
    checkpoint: StepRow | null = null,
  ): Promise<void> {
    const finish = () => this.runs.finish(row.run_id, status, output, error, this.clock())
    const changed =
      checkpoint === null
        ? this.writer.writeOne(finish)
        : this.writer.writeTogether(() => {
            this.journal.put(row.run_id, checkpoint)
            return finish()
          })
    await this.writer.durable()
    if (!changed) return
    this.observer?.onRunStatus?.(row.run_id, row.workflow, status)
    this.notifyEnd(row.run_id, row.parent_run_id)
  }
}
