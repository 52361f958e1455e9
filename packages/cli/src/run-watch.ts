import { Command } from 'commander'
import { isFinished, type RunStatusChange } from '@litecell/client'
import { EXIT_CODES } from './cli-error.js'
import { contextOf } from './cli-context.js'
import type { Output } from './output.js'

/** Exit code after Ctrl-C, as shells report SIGINT (128 + 2). */
const INTERRUPTED_EXIT_CODE = 130

/**
 * `litecell runs watch <tenant> [run]`: status changes as they happen, from the tenant's run
 * stream (`GET …/runs/stream`, which never wakes the tenant). With a run, its status now and
 * each change, ending with its final status (exit 5 if it failed or was cancelled); without
 * one, every run's changes until Ctrl-C. `--json` prints one JSON object per change.
 */
export function watchCommand(): Command {
  return new Command('watch')
    .description('print run status changes as they happen (one run: until it ends)')
    .argument('<tenant>', 'tenant id')
    .argument('[run]', 'run id (or a unique prefix): follow only this run, until it ends')
    .action(async (tenant: string, runId: string | undefined, _options: object, command: Command) => {
      const { client, output } = contextOf(command)
      const stop = new AbortController()
      const interrupt = () => {
        stop.abort()
        process.exit(INTERRUPTED_EXIT_CODE)
      }
      process.once('SIGINT', interrupt)
      try {
        if (runId !== undefined) {
          let last: RunStatusChange | undefined
          for await (const change of client.watchRun(tenant, runId, { signal: stop.signal })) {
            printChange(output, change)
            last = change
          }
          if (last && isFinished(last.status) && last.status !== 'succeeded') {
            process.exitCode = EXIT_CODES.RUN_FAILED
          }
          return
        }
        if (!output.isJson) output.note(`watching runs of ${tenant}; Ctrl-C to stop`)
        for await (const event of client.runEvents(tenant, { signal: stop.signal })) {
          if (event.type === 'status') printChange(output, event.run)
          else if (!output.isJson) output.note(NOTES[event.type])
        }
      } finally {
        process.off('SIGINT', interrupt)
      }
    })
}

const NOTES = {
  attached: '(following the tenant’s worker)',
  detached: '(tenant hibernated: watching for its next wake)',
  overflow: '(some changes were dropped: this terminal fell behind)',
} as const

function printChange(output: Output, change: RunStatusChange): void {
  if (output.isJson) {
    output.line(JSON.stringify(change))
    return
  }
  const time = change.at.length >= 23 ? change.at.slice(11, 23) : change.at
  output.line(`${time}  ${change.runId}  ${change.workflow}  ${change.status}`)
}
