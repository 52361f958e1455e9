import { EngineError, invalidInput } from './engine-error.js'
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

/** A queue runs its runs with its own concurrency and optional rate limit (p-queue). */
export interface QueueDefinition {
  /** Runs of this queue executing at once. */
  readonly concurrency: number
  /** At most `limit` run executions start per `periodMs`. */
  readonly rateLimit?: { readonly limit: number; readonly periodMs: number }
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
  /** SQL scripts applied once each, in order, to the tenant database. */
  readonly migrations?: readonly string[]
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
  if (app.migrations !== undefined) {
    if (!Array.isArray(app.migrations)) bad('app.migrations', app.migrations, 'an array')
    app.migrations.forEach((sql: unknown, i: number) => {
      if (typeof sql !== 'string') bad(`app.migrations[${i}]`, sql, 'an SQL string')
    })
  }
}

/** True for integers from 1 up. */
export function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1
}
