/** The `litecell` command. */
import { Command } from 'commander'
import { serveCommand } from './serve-command.js'

const program = new Command('litecell').description('durable workflows, one SQLite file per tenant')

program
  .command('serve')
  .description('run the control plane (embedded S3 unless LITECELL_S3_ENDPOINT is set)')
  .action(async () => {
    await serveCommand()
  })

program.parseAsync().catch((err: unknown) => {
  console.error(`litecell: ${(err as Error).message}`)
  process.exit(1)
})
