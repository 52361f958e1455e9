import type { Command } from 'commander'
import { ApiClient } from './api-client.js'
import { resolveConnection, type Connection } from './connection.js'
import { Output } from './output.js'

/** The global options every command accepts (before or after the command name). */
export interface GlobalOptions {
  url?: string
  token?: string
  json?: boolean
}

/** What a command's action works with. */
export interface CliContext {
  readonly client: ApiClient
  readonly output: Output
  readonly connection: Connection
}

/** Builds the client and output for a command from its options and the environment. */
export function contextOf(command: Command, env: NodeJS.ProcessEnv = process.env): CliContext {
  const options = command.optsWithGlobals<GlobalOptions>()
  const connection = resolveConnection({ url: options.url, token: options.token }, env)
  return {
    client: new ApiClient({ baseUrl: connection.url, token: connection.token }),
    output: new Output({ json: options.json === true }),
    connection,
  }
}
