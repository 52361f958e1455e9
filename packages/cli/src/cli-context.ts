import type { Command } from 'commander'
import { LitecellClient } from '@litecell/client'
import { resolveConnection, type Connection } from './connection.js'
import { usageError } from './cli-error.js'
import { Output } from './output.js'

/** The global options every command accepts (before or after the command name). */
export interface GlobalOptions {
  url?: string
  token?: string
  json?: boolean
}

/** What a command's action works with. */
export interface CliContext {
  readonly client: LitecellClient
  readonly output: Output
  readonly connection: Connection
}

/** The connection each program's command used, for error messages (see `main.ts`). */
const connections = new WeakMap<Command, Connection>()

/** The connection the command run by `program` used, once it built one. */
export function connectionOf(program: Command): Connection | undefined {
  return connections.get(program)
}

/** Builds the client and output for a command from its options and the environment. */
export function contextOf(command: Command, env: NodeJS.ProcessEnv = process.env): CliContext {
  const options = command.optsWithGlobals<GlobalOptions>()
  const connection = resolveConnection({ url: options.url, token: options.token }, env)
  let root = command
  while (root.parent) root = root.parent
  connections.set(root, connection)
  let client: LitecellClient
  try {
    client = new LitecellClient({ baseUrl: connection.url, token: connection.token })
  } catch (err) {
    throw usageError((err as Error).message)
  }
  return {
    client,
    output: new Output({ json: options.json === true }),
    connection,
  }
}
