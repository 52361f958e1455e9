import { dirname, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { PRELOAD_APPS_ENV } from '@litecell/protocol'
import type { Logger } from 'pino'

/** Identical safety-net log lines within this window are counted, not repeated. */
export const SAFETY_NET_LOG_WINDOW_MS = 10_000

/**
 * Folder holding litecell's own packages: `packages/` in the repository,
 * `node_modules/@litecell/` when installed (this file is `<root>/worker/src/safety-net.ts`).
 */
const LITECELL_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** Whose code raised an error, from the files its stack names. */
export type ErrorOrigin = 'app' | 'litecell' | 'unknown'

/** Settings of {@link installSafetyNet}. */
export interface SafetyNetOptions {
  /** The current logger (the worker replaces its logger once it knows its tenant). */
  readonly log: () => Logger
  /** Called after logging an uncaught exception raised by litecell's own code. */
  readonly onFatal: (error: unknown) => void
  /** @default the folder of litecell's packages */
  readonly litecellRoot?: string
}

/** The installed net; the worker names the app once it knows it. */
export interface SafetyNet {
  /** App code lives in this module's folder (and apps named in LITECELL_PRELOAD_APPS). */
  setAppPath(path: string): void
  /** Whose code raised `error`. */
  originOf(error: unknown): ErrorOrigin
}

/**
 * The worker's process-level safety net (issue 9: one app promise rejected without a handler
 * and Node's default killed the worker, on every recovery again, until the tenant failed).
 *
 * - An unhandled rejection never ends the process: a rejected promise unwinds nothing, so no
 *   state is left half-changed. It is logged, at `warn` when app code (or code of unknown
 *   origin) raised it, at `error` when litecell's own code did (a bug to fix).
 * - An uncaught exception from app code (a throwing timer or event handler the app started)
 *   or of unknown origin (a library the app uses, a thrown non-Error) is logged at `warn`
 *   and the worker goes on: the run that started it continues as its own code says.
 * - An uncaught exception whose stack shows litecell's code and no app code is a broken
 *   invariant of the worker or engine, whose state may be half-changed: it is logged at
 *   `fatal` and the worker exits (`onFatal`), to recover from what is committed. If that
 *   keeps happening while one run executes, the engine quarantines that run.
 *
 * Identical lines are logged once per {@link SAFETY_NET_LOG_WINDOW_MS} with a count, so a
 * timer that throws every millisecond cannot flood the log.
 */
export function installSafetyNet(options: SafetyNetOptions): SafetyNet {
  const litecellRoot = `${options.litecellRoot ?? LITECELL_ROOT}${sep}`
  const appMarkers: string[] = []
  const addApp = (path: string): void => {
    const absolute = resolve(path)
    // The app's folder holds its helper modules too, unless litecell itself lives inside it.
    const folder = `${dirname(absolute)}${sep}`
    const root = litecellRoot.startsWith(folder) ? absolute : folder
    appMarkers.push(root, pathToFileURL(root).href)
  }
  for (const path of (process.env[PRELOAD_APPS_ENV] ?? '').split(',').filter(Boolean)) addApp(path)
  const litecellMarkers = [litecellRoot, pathToFileURL(litecellRoot).href]

  const originOf = (error: unknown): ErrorOrigin => {
    const stack = typeof (error as { stack?: unknown } | null)?.stack === 'string' ? (error as Error).stack! : ''
    if (appMarkers.some((marker) => stack.includes(marker))) return 'app'
    if (litecellMarkers.some((marker) => stack.includes(marker))) return 'litecell'
    return 'unknown'
  }

  const lastLogged = new Map<string, { atMs: number; suppressed: number }>()
  const report = (level: 'warn' | 'error' | 'fatal', event: string, error: unknown, origin: ErrorOrigin): void => {
    const message = `${event}: ${(error as { message?: unknown } | null)?.message ?? String(error)}`
    const nowMs = Date.now()
    const seen = lastLogged.get(message)
    if (level !== 'fatal' && seen && nowMs - seen.atMs < SAFETY_NET_LOG_WINDOW_MS) {
      seen.suppressed += 1
      return
    }
    if (lastLogged.size > 100) lastLogged.clear()
    lastLogged.set(message, { atMs: nowMs, suppressed: 0 })
    const what =
      level === 'fatal'
        ? `${event} in litecell's own code; exiting to recover from what is committed`
        : `${event} from ${origin === 'litecell' ? "litecell's own code" : origin === 'app' ? 'app code' : 'code of unknown origin'}; the worker goes on`
    options.log()[level]({ err: error, origin, repeatedSinceLastLog: seen?.suppressed ?? 0 }, what)
  }

  process.on('unhandledRejection', (reason) => {
    const origin = originOf(reason)
    report(origin === 'litecell' ? 'error' : 'warn', 'unhandled promise rejection', reason, origin)
  })
  process.on('uncaughtException', (error) => {
    const origin = originOf(error)
    if (origin !== 'litecell') return report('warn', 'uncaught exception', error, origin)
    report('fatal', 'uncaught exception', error, origin)
    options.onFatal(error)
  })
  return { setAppPath: addApp, originOf }
}
