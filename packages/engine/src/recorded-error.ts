import { TerminalError } from './engine-error.js'

/** The JSON shape in which errors are recorded in `lc_runs.error` and `lc_steps.error`. */
export interface RecordedError {
  name: string
  message: string
  code?: string
}

/** Reduces any thrown value to its recorded JSON shape. */
export function recordError(error: unknown): RecordedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return typeof code === 'string'
      ? { name: error.name, message: error.message, code }
      : { name: error.name, message: error.message }
  }
  return { name: 'Error', message: String(error) }
}

/** JSON text of an error's recorded shape. */
export function errorText(error: unknown): string {
  return JSON.stringify(recordError(error))
}

/** The recorded `code` of an error text, if it has one (e.g. `RUN_QUARANTINED`). */
export function recordedCode(errorText: string | null): string | undefined {
  if (errorText === null) return undefined
  try {
    return (JSON.parse(errorText) as Partial<RecordedError>).code
  } catch {
    return undefined
  }
}

/** The `TerminalError` a recorded failure replays as. */
export function failureOf(errorText: string | null): TerminalError {
  const recorded = (
    errorText === null ? { name: 'Error', message: 'step failed' } : JSON.parse(errorText)
  ) as RecordedError
  return new TerminalError(
    recorded.message,
    recorded.code === undefined ? undefined : { code: recorded.code },
  )
}

/** Keeps the original error of a recorded failure as its `cause` (live runs only). */
export function withCause(error: TerminalError, cause: unknown): TerminalError {
  if (cause !== error)
    Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true })
  return error
}
