import { isLitecellError } from '@litecell/client'
import type { Connection } from './connection.js'

/**
 * Exit codes scripts can rely on. They are public API: listed in `litecell --help` and never
 * renumbered.
 */
export const EXIT_CODES = {
  /** The command did what it was asked. */
  OK: 0,
  /** The API refused the request (400, 409, 413, 429, 5xx), the server was unreachable, or a file failed. */
  ERROR: 1,
  /** Bad usage: unknown command or option, missing argument, argument that is not valid JSON. */
  USAGE: 2,
  /** The tenant, run or route does not exist (404). */
  NOT_FOUND: 3,
  /** The token is missing or invalid (401), or belongs to someone else (403). */
  AUTH: 4,
  /** A run the command waited for ended `failed` or `cancelled`. */
  RUN_FAILED: 5,
  /** A wait ran out of time before the run ended. */
  TIMEOUT: 6,
} as const

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES]

/** The epilog of `litecell --help`: the exit-code table, generated so it can't drift. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  error: the API refused the request (400/409/413/429/5xx), server unreachable, file error
  2  bad usage (unknown option, missing argument, invalid JSON argument)
  3  not found (404: no such tenant or run)
  4  auth (401: missing or invalid token; 403: token of another tenant, or admin needed)
  5  a run waited for ended failed or cancelled
  6  timed out waiting for a run

Environment:
  LITECELL_URL        API base URL (default http://127.0.0.1:8787)
  LITECELL_TOKEN      bearer token; if unset, the admin token is read from
                      $LITECELL_DATA_DIR/admin-token (default ./.litecell/admin-token)
`

/** Stable codes of errors the CLI raises itself (API errors carry the server's code). */
export type CliErrorCode =
  | 'USAGE'
  | 'CONNECTION_FAILED'
  | 'INVALID_RESPONSE'
  | 'INVALID_JSONL'
  | 'FILE_FAILED'
  | 'RUN_FAILED'
  | 'TIMEOUT'
  | (string & {})

/**
 * Base error of the CLI: a stable `code`, the process exit code it maps to, and the `cause`
 * it wraps. `main` prints its message as one line on stderr and exits with `exitCode`.
 */
export class CliError extends Error {
  override name = 'CliError'
  readonly code: CliErrorCode
  readonly exitCode: ExitCode

  constructor(
    code: CliErrorCode,
    message: string,
    options: { exitCode?: ExitCode; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause })
    this.code = code
    this.exitCode = options.exitCode ?? EXIT_CODES.ERROR
  }
}

/** A usage error (exit 2) with the given message. */
export function usageError(message: string): CliError {
  return new CliError('USAGE', message, { exitCode: EXIT_CODES.USAGE })
}

/**
 * The CLI's form of a client error: the exit code scripts rely on (404 → 3, 401/403 → 4,
 * anything else → 1) and a hint on what to do, in one line. Undefined for other errors.
 */
export function cliErrorOf(
  err: unknown,
  connection?: Pick<Connection, 'tokenSource' | 'tokenFile'>,
): CliError | undefined {
  if (!isLitecellError(err)) return undefined
  let hint = ''
  if (err.status === 401) hint = unauthenticatedHint(connection)
  if (err.code === 'CONNECTION_FAILED') {
    hint = '; is the server running? start it with `litecell serve` (`pnpm start` in the repository), or set LITECELL_URL'
  }
  return new CliError(err.code, `${err.message}${hint}`, {
    exitCode: exitCodeFor(err.status),
    cause: err,
  })
}

/**
 * What to do about a 401: which token was sent (and from where), or, when none was found,
 * which admin token file was looked for, so a command run outside the folder `litecell serve`
 * runs in says why it has no token.
 */
function unauthenticatedHint(
  connection: Pick<Connection, 'tokenSource' | 'tokenFile'> | undefined,
): string {
  if (connection?.tokenSource) {
    const source = connection.tokenSource === connection.tokenFile ? `the file ${connection.tokenSource}` : connection.tokenSource
    return ` (the token came from ${source}; set LITECELL_TOKEN or pass --token)`
  }
  if (connection?.tokenFile) {
    return ` (no token: none given with --token or LITECELL_TOKEN, and no admin token file at ${connection.tokenFile}; run the command in the folder \`litecell serve\` runs in, or set LITECELL_DATA_DIR, LITECELL_TOKEN or --token)`
  }
  return ' (set LITECELL_TOKEN or pass --token)'
}

/** Maps an HTTP error status to the CLI's exit code. */
export function exitCodeFor(status: number): ExitCode {
  if (status === 404) return EXIT_CODES.NOT_FOUND
  if (status === 401 || status === 403) return EXIT_CODES.AUTH
  return EXIT_CODES.ERROR
}
