import { Command } from 'commander'
import packageJson from '../package.json' with { type: 'json' }
import { EXIT_CODES_HELP } from './cli-error.js'
import { logsCommand } from './logs-command.js'
import { runsCommand } from './runs-command.js'
import { schedulesCommand } from './schedules-command.js'
import { queryCommand, snapshotCommand, tenantsCommand } from './tenants-command.js'
import { workflowsCommand } from './workflows-command.js'

/**
 * The `litecell` command tree. Global options (`--url`, `--token`, `--json`) go before or
 * after the command name. Commander reports usage errors by throwing (see `main.ts`), so
 * they exit 2 rather than commander's default 1, which scripts read as an API error.
 */
export function createProgram(): Command {
  const { version } = packageJson
  const program = new Command('litecell')
    .description('durable workflows, one SQLite file per tenant')
    .option('--url <url>', 'API base URL (env LITECELL_URL; default http://127.0.0.1:8787)')
    .option(
      '--token <token>',
      'bearer token (env LITECELL_TOKEN; default: the local admin token file)',
    )
    .option('--json', 'print machine-readable JSON (the API body) on stdout')
    .version(version, '-V, --version', 'print the version')
    .addHelpText('after', EXIT_CODES_HELP)

  program
    .command('serve')
    .description('run the control plane (embedded S3 unless LITECELL_S3_ENDPOINT is set)')
    .option(
      '--new-registry',
      'start with an empty registry even though storage holds one that cannot be restored (every stored tenant is forgotten)',
    )
    .action(async (options: { newRegistry?: boolean }) => {
      // Loaded on use: the control plane's module graph would slow every other command.
      const { runServe } = await import('./serve-loader.js')
      await runServe({ newRegistry: options.newRegistry === true })
    })
  program.addCommand(tenantsCommand())
  program.addCommand(runsCommand())
  program.addCommand(workflowsCommand())
  program.addCommand(logsCommand())
  program.addCommand(schedulesCommand())
  program.addCommand(queryCommand().description('same as `tenants query`'))
  program.addCommand(snapshotCommand().description('same as `tenants snapshot`'))
  configureTree(program)
  return program
}

/** Applies the error settings to every command (`addCommand` does not inherit them). */
function configureTree(command: Command): void {
  command
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      outputError: (text, write) => write(`litecell: ${text.replace(/^error: /, '')}`),
    })
  for (const sub of command.commands) configureTree(sub)
}
