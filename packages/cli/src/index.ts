/** The public surface of `@litecell/cli`: the command tree and the API client it is built on. */
export { createProgram } from './program.js'
export { ApiClient, ApiError, apiPath } from './api-client.js'
export type { ApiClientOptions, QueryParams } from './api-client.js'
export { CliError, EXIT_CODES } from './cli-error.js'
export type { CliErrorCode, ExitCode } from './cli-error.js'
export { resolveConnection, DEFAULT_URL } from './connection.js'
export type { Connection } from './connection.js'
