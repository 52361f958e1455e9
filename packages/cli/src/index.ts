/**
 * The public surface of `@litecell/cli`: the command tree and the batch tools it is built on.
 * The API client itself is `@litecell/client`.
 */
export { createProgram } from './program.js'
export { CliError, EXIT_CODES, cliErrorOf } from './cli-error.js'
export type { CliErrorCode, ExitCode } from './cli-error.js'
export { resolveConnection, DEFAULT_URL } from './connection.js'
export type { Connection } from './connection.js'
export { submitBatch, DEFAULT_CHUNK_RUNS } from './run-batch.js'
export type { BatchOptions, BatchRun, BatchSummary } from './run-batch.js'
export { BatchProgress } from './progress.js'
export type { BatchCounts, ProgressMode } from './progress.js'
