/** The `litecell` command: parse, run, and turn any error into one line and an exit code. */
import { CommanderError } from 'commander'
import { connectionOf } from './cli-context.js'
import { EXIT_CODES, cliErrorOf } from './cli-error.js'
import { createProgram } from './program.js'

// `litecell … | head` closes stdout early: that is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT_CODES.OK)
  throw err
})

const program = createProgram()
program
  .parseAsync(process.argv)
  .catch((thrown: unknown) => {
    const err = cliErrorOf(thrown, connectionOf(program)) ?? thrown
    if (err instanceof CommanderError) {
      // Commander already printed the message (or the help); only the exit code is ours.
      process.exitCode = err.exitCode === 0 ? EXIT_CODES.OK : EXIT_CODES.USAGE
      return
    }
    const known = typeof (err as { exitCode?: unknown }).exitCode === 'number'
    const message = (err as Error).message ?? String(err)
    console.error(`litecell: ${known ? message : `unexpected error: ${message}`}`)
    if (process.env.LITECELL_DEBUG) console.error((err as Error).stack)
    process.exitCode = known ? (err as { exitCode: number }).exitCode : EXIT_CODES.ERROR
  })
