/** The public surface of `@litecell/cli`: the command tree and the API client it is built on. */
export { createProgram } from './program.js'
export { ApiClient, ApiError, apiPath } from './api-client.js'
export type { ApiClientOptions, QueryParams } from './api-client.js'
export { CliError, EXIT_CODES } from './cli-error.js'
export type { CliErrorCode, ExitCode } from './cli-error.js'
export { resolveConnection, DEFAULT_URL } from './connection.js'
export type { Connection } from './connection.js'
export { submitBatch, DEFAULT_CHUNK_RUNS } from './run-batch.js'
export type { BatchOptions, BatchSummary } from './run-batch.js'
export { BatchProgress } from './progress.js'
export type { BatchCounts, ProgressMode } from './progress.js'
export { waitForRun } from './run-waiter.js'
export type { WaitOutcome } from './run-waiter.js'
export type {
  RunDetail,
  RunStatus,
  RunSummary,
  StepView,
  TenantView,
  TenantState,
} from './api-types.js'
