import { toMs, type Duration } from './duration.js'
import { EngineError, invalidInput } from './engine-error.js'
import type { Migration } from './migration.js'
import { validateSchedule, type ScheduleDefinition } from './schedule.js'
import type { WorkflowContext } from './workflow-context.js'
import { isStandardSchema, type WorkflowEntry } from './workflow-definition.js'

/**
 * A workflow: an async function of its context and JSON input, returning a JSON output. It
 * must be deterministic apart from what goes through `ctx`, because recovery re-runs it.
 * The input is whatever JSON the run was started with (`null` if none); annotate its type.
 */
export type WorkflowFn<Input = unknown, Output = unknown> = {
  // Method syntax keeps parameters bivariant, so `(ctx, input: TrainInput) => …` fits even
  // when TrainInput is an interface (which JsonValue would reject for lack of an index).
  workflow(ctx: WorkflowContext, input: Input): Promise<Output>
}['workflow']

/**
 * A queue admits its runs by priority, with its own concurrency, optional per-partition
 * concurrency and optional rate limit (see queue-admission.ts).
 */
export interface QueueDefinition {
  /** Runs of this queue executing at once. */
  readonly concurrency: number
  /**
   * Runs of one `partitionKey` executing at once (e.g. 1: one GPU job per user). Runs without
   * a partition key count against `concurrency` only.
   */
  readonly partitionConcurrency?: number
  /** At most `limit` run executions start per `periodMs`. */
  readonly rateLimit?: { readonly limit: number; readonly periodMs: number }
}

/** Defaults for every run of one workflow; a start's own options override them. */
export interface WorkflowOptions<Input = unknown> {
  /** Runs not ended this long after their start are cancelled (see `StartOptions.timeoutMs`). */
  readonly timeoutMs?: Duration
  /**
   * Every start of the workflow is debounced: starts with the same key (from `key(input)`, or
   * one key for all starts without it) within `delayMs` of each other become one run with the
   * last input, which starts `delayMs` after the last start.
   */
  readonly debounce?: {
    readonly delayMs: Duration
    readonly key?: (input: Input) => string
  }
}

/**
 * How long finished runs are kept, per final status (`ms` strings such as `'30d'`, or ms);
 * older ones are deleted with their journal, events and tags in the background. A status left
 * out is kept forever.
 */
export interface RetentionPolicy {
  readonly succeeded?: Duration
  readonly failed?: Duration
  readonly cancelled?: Duration
}

/** What an app module's default export looks like. */
export interface AppDefinition {
  /**
   * Workflows by name: a function, or `{ fn, input }` with the input's schema (zod or any
   * Standard Schema; see `workflow(schema, fn)`), checked at every start.
   */
  readonly workflows: Readonly<Record<string, WorkflowEntry>>
  /** Named queues a run may be started on. */
  readonly queues?: Readonly<Record<string, QueueDefinition>>
  /**
   * SQL applied once each, in order, to the tenant database: plain strings (identified by a
   * hash of their text) or `{ name, sql }`. Append only: a tenant whose applied migrations no
   * longer match the start of this list refuses to open (`MIGRATION_MISMATCH`).
   */
  readonly migrations?: readonly Migration[]
  /**
   * Cron schedules by id, synced into every tenant database at open (see scheduler.ts).
   * @example
   * schedules: { nightly: { cron: '0 3 * * *', timezone: 'Europe/Berlin', workflow: 'sweep' } }
   */
  readonly schedules?: Readonly<Record<string, ScheduleDefinition>>
  /**
   * The app's version, recorded by every run it starts (see `ctx.patched` for changing code
   * under runs in flight). @default a hash of the app module (worker) or of its workflows
   */
  readonly version?: string
  /** Per-workflow defaults (timeout, debounce), by workflow name. */
  readonly workflowOptions?: Readonly<Record<string, WorkflowOptions<never>>>
  /** Deletes old finished runs; without it, runs are kept forever. */
  readonly retention?: RetentionPolicy
}

/** An app, as returned by {@link defineApp}. */
export type App = AppDefinition

/**
 * Declares an app. Validates its shape at once; a plain object of the same shape works too.
 *
 * @throws {EngineError} `INVALID_INPUT` describing the first bad field.
 * @example
 * export default defineApp({
 *   workflows: { greet: async (ctx, input) => ctx.step('hello', () => `hi ${input}`) },
 * })
 */
export function defineApp<T extends AppDefinition>(app: T): T {
  validateApp(app)
  return app
}

function bad(what: string, value: unknown, expected: string): never {
  throw invalidInput(what, value, expected)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Checks an app's shape; used by {@link defineApp} and `Engine.open`. */
export function validateApp(app: unknown): asserts app is AppDefinition {
  if (!isRecord(app)) bad('app', app, 'an object with `workflows`')
  if (!isRecord(app.workflows)) bad('app.workflows', app.workflows, 'an object of functions')
  for (const [name, entry] of Object.entries(app.workflows)) {
    if (typeof entry === 'function') continue
    if (!isRecord(entry) || typeof entry.fn !== 'function') {
      bad(`app.workflows.${name}`, entry, 'a function, or `{ fn, input }` with a function `fn`')
    }
    if (entry.input !== undefined && !isStandardSchema(entry.input)) {
      bad(`app.workflows.${name}.input`, entry.input, 'a schema (zod, valibot… any Standard Schema)')
    }
  }
  if (app.queues !== undefined) {
    if (!isRecord(app.queues)) bad('app.queues', app.queues, 'an object')
    for (const [name, queue] of Object.entries(app.queues)) {
      if (!isRecord(queue)) bad(`app.queues.${name}`, queue, 'an object')
      if (!isPositiveInteger(queue.concurrency)) {
        bad(`app.queues.${name}.concurrency`, queue.concurrency, 'a number from 1 and up')
      }
      if (
        queue.partitionConcurrency !== undefined &&
        !isPositiveInteger(queue.partitionConcurrency)
      ) {
        bad(
          `app.queues.${name}.partitionConcurrency`,
          queue.partitionConcurrency,
          'a number from 1 and up',
        )
      }
      const limit = queue.rateLimit
      if (limit !== undefined) {
        if (!isRecord(limit)) bad(`app.queues.${name}.rateLimit`, limit, 'an object')
        if (!isPositiveInteger(limit.limit)) {
          bad(`app.queues.${name}.rateLimit.limit`, limit.limit, 'a number from 1 and up')
        }
        if (!isPositiveInteger(limit.periodMs)) {
          bad(`app.queues.${name}.rateLimit.periodMs`, limit.periodMs, 'a number from 1 and up')
        }
      }
    }
  }
  validateWorkflowOptions(app)
  validateRetention(app.retention)
  if (app.migrations !== undefined) validateMigrations(app.migrations)
  if (app.schedules !== undefined) {
    if (!isRecord(app.schedules)) bad('app.schedules', app.schedules, 'an object')
    const nowMs = Date.now()
    for (const [id, schedule] of Object.entries(app.schedules)) {
      const { spec } = validateSchedule(id, schedule, `app.schedules.${id}`, nowMs)
      if (!Object.hasOwn(app.workflows, spec.workflow)) {
        bad(`app.schedules.${id}.workflow`, spec.workflow, 'a workflow of the app')
      }
    }
  }
  if (app.version !== undefined && (typeof app.version !== 'string' || app.version === '' || app.version.length > 128)) {
    bad('app.version', app.version, 'a string of 1 to 128 characters')
  }
}

function validateMigrations(migrations: unknown): void {
  if (!Array.isArray(migrations)) bad('app.migrations', migrations, 'an array')
  const names = new Set<string>()
  migrations.forEach((migration: unknown, i: number) => {
    if (typeof migration === 'string') return
    if (!isRecord(migration) || typeof migration.sql !== 'string') {
      bad(`app.migrations[${i}]`, migration, 'an SQL string or { name, sql }')
    }
    const name = migration.name
    if (typeof name !== 'string' || name === '' || name.length > 128 || names.has(name)) {
      bad(`app.migrations[${i}].name`, name, 'a name of 1 to 128 characters, unique in the list')
    }
    names.add(name)
  })
}

/** True for integers from 1 up. */
export function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1
}

function validateWorkflowOptions(app: Record<string, unknown>): void {
  const all = app.workflowOptions
  if (all === undefined) return
  if (!isRecord(all)) bad('app.workflowOptions', all, 'an object')
  const workflows = app.workflows as Record<string, unknown>
  for (const [name, options] of Object.entries(all)) {
    const what = `app.workflowOptions.${name}`
    if (!Object.hasOwn(workflows, name)) bad(what, name, 'the name of a workflow of the app')
    if (!isRecord(options)) bad(what, options, 'an object')
    if (options.timeoutMs !== undefined) positiveMs(options.timeoutMs, `${what}.timeoutMs`)
    const debounce = options.debounce
    if (debounce === undefined) continue
    if (!isRecord(debounce)) bad(`${what}.debounce`, debounce, 'an object with `delayMs`')
    positiveMs(debounce.delayMs, `${what}.debounce.delayMs`)
    if (debounce.key !== undefined && typeof debounce.key !== 'function') {
      bad(`${what}.debounce.key`, debounce.key, 'a function of the input returning a string')
    }
  }
}

function validateRetention(retention: unknown): void {
  if (retention === undefined) return
  if (!isRecord(retention)) bad('app.retention', retention, 'an object')
  for (const [status, keep] of Object.entries(retention)) {
    if (status !== 'succeeded' && status !== 'failed' && status !== 'cancelled') {
      bad(`app.retention.${status}`, status, 'one of succeeded, failed, cancelled')
    }
    if (keep !== undefined) positiveMs(keep, `app.retention.${status}`)
  }
}

/** A {@link Duration} of at least 1 ms, as ms. */
export function positiveMs(value: unknown, what: string): number {
  const valueMs = toMs(value as Duration, what)
  if (valueMs < 1) bad(what, value, "a duration of 1 ms or more (ms, or a string like '30d')")
  return valueMs
}
