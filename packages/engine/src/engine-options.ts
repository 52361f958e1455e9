import { isPositiveInteger, validateApp, type AppDefinition } from './app.js'
import { DEFAULT_APP_NAME, resolveAppVersion } from './app-identity.js'
import { EngineError, invalidInput } from './engine-error.js'
import type { EngineObserver } from './observer.js'
import { DEFAULT_QUERY_TIMEOUT_MS } from './query.js'
import { DEFAULT_QUERY_THREAD_IDLE_MS } from './query-thread.js'

/** Runs of the default queue executing at once. */
export const DEFAULT_CONCURRENCY = 100

/**
 * Time budget of the SQL of one `ctx.transaction`. The synchronous driver runs SQL on the
 * event loop, so this is also the longest a transaction can block the worker's heartbeats.
 * With the worker's default lease (10 s TTL, renewed every 2 s, fenced 4 s before it ends) a
 * renewal must succeed within 6 s of the previous one; a block of up to 2 s right before a
 * heartbeat still leaves about 2 s for the renewal's round trip and other queued work. Real
 * transactions (a few rows through indexes) take milliseconds.
 */
export const DEFAULT_TRANSACTION_TIMEOUT_MS = 2_000

/** Options of `Engine.open`. */
export interface EngineOptions {
  /** Plain file path of the tenant's SQLite database; created if missing. */
  readonly path: string
  /** The app whose workflows run here. */
  readonly app: AppDefinition
  /** Runs of the default queue executing at once. @default 100 */
  readonly concurrency?: number
  /**
   * `NORMAL` survives a process crash (machine loss is covered by the S3 replica); `FULL`
   * also fsyncs every commit. @default 'NORMAL'
   */
  readonly synchronous?: 'NORMAL' | 'FULL'
  /** Epoch-ms clock for timers and timestamps; inject one in tests. @default Date.now */
  readonly clock?: () => number
  /** Metrics callbacks. */
  readonly observer?: EngineObserver
  /**
   * Longest the SQL of one `ctx.transaction` may run in total; SQLite interrupts the statement
   * running at that point and the transaction fails with `STEP_TIMEOUT`. Keep it well below
   * the time a blocked event loop may take without costing the worker its lease.
   * @default 2_000
   */
  readonly transactionTimeoutMs?: number
  /** Longest an `Engine.query` statement may run; SQLite interrupts it. @default 5000 */
  readonly queryTimeoutMs?: number
  /** The query thread stops after this long without a query. @default 30000 */
  readonly queryThreadIdleMs?: number
  /**
   * The output gate's hook (`ctx.step(…, { gate: 'replicated' })`): resolves once every
   * transaction committed before the call is durable beyond this machine (a worker confirms
   * it in the S3 replica), rejects if that cannot be confirmed now. `signal` aborts when the
   * engine closes. Absent: a gated step waits for the local commit only.
   */
  readonly confirmDurable?: (signal: AbortSignal) => Promise<void>
  /**
   * The app's name, recorded in the database: a database that records another app refuses
   * to open (`APP_MISMATCH`) unless it records `upgradeFrom`. @default 'default'
   */
  readonly appName?: string
  /**
   * The version runs record when they start (the worker passes a hash of the app module).
   * @default the app's `version`, else a hash of its workflow functions
   */
  readonly appVersion?: string
  /** The app this database may record instead of `appName`: an explicit switch of its app. */
  readonly upgradeFrom?: string
}

/** Options after validation and defaults. */
export interface ResolvedOptions {
  path: string
  app: AppDefinition
  concurrency: number
  synchronous: 'NORMAL' | 'FULL'
  clock: () => number
  observer: EngineObserver | undefined
  transactionTimeoutMs: number
  queryTimeoutMs: number
  queryThreadIdleMs: number
  confirmDurable: ((signal: AbortSignal) => Promise<void>) | undefined
  appName: string
  appVersion: string
  upgradeFrom: string | undefined
}

function bad(what: string, value: unknown, expected: string): never {
  throw invalidInput(what, value, expected)
}

/**
 * Validates `Engine.open` options and fills in defaults.
 *
 * @throws {EngineError} `INVALID_INPUT` quoting the bad value and its type.
 */
export function resolveOptions(options: EngineOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) bad('options', options, 'an object')
  const {
    path,
    concurrency,
    synchronous,
    clock,
    observer,
    queryTimeoutMs,
    queryThreadIdleMs,
    transactionTimeoutMs,
    confirmDurable,
  } = options
  if (typeof path !== 'string' || path === '' || path.startsWith(':memory:')) {
    bad('path', path, 'a file path')
  }
  // Accept `file:` URLs for callers used to @libsql/client, but keep a plain path.
  const plainPath = path.startsWith('file:') ? path.slice('file:'.length) : path
  validateApp(options.app)
  if (concurrency !== undefined && !isPositiveInteger(concurrency)) {
    bad('concurrency', concurrency, 'a number from 1 and up')
  }
  if (synchronous !== undefined && synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    bad('synchronous', synchronous, "'NORMAL' or 'FULL'")
  }
  if (clock !== undefined && typeof clock !== 'function') bad('clock', clock, 'a function')
  if (observer !== undefined && (typeof observer !== 'object' || observer === null)) {
    bad('observer', observer, 'an object')
  }
  if (confirmDurable !== undefined && typeof confirmDurable !== 'function') {
    bad('confirmDurable', confirmDurable, 'a function')
  }
  for (const [what, value] of [
    ['queryTimeoutMs', queryTimeoutMs],
    ['queryThreadIdleMs', queryThreadIdleMs],
    ['transactionTimeoutMs', transactionTimeoutMs],
  ] as const) {
    if (value !== undefined && !isPositiveInteger(value)) bad(what, value, 'a number of ms from 1 and up')
  }
  for (const [what, value] of [
    ['appName', options.appName],
    ['appVersion', options.appVersion],
    ['upgradeFrom', options.upgradeFrom],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value === '' || value.length > 128)) {
      bad(what, value, 'a string of 1 to 128 characters')
    }
  }
  return {
    path: plainPath,
    app: options.app,
    concurrency: concurrency ?? DEFAULT_CONCURRENCY,
    synchronous: synchronous ?? 'NORMAL',
    clock: clock ?? Date.now,
    observer,
    transactionTimeoutMs: transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS,
    queryTimeoutMs: queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
    queryThreadIdleMs: queryThreadIdleMs ?? DEFAULT_QUERY_THREAD_IDLE_MS,
    confirmDurable,
    appName: options.appName ?? DEFAULT_APP_NAME,
    appVersion: resolveAppVersion(options.app, options.appVersion),
    upgradeFrom: options.upgradeFrom,
  }
}
