import type { Executor } from './executor.js'
import type { RunStore } from './run-store.js'

/**
 * Recovers every unfinished run when an engine opens: `pending` and `running` runs execute
 * (a `running` one was cut off by a crash or a close and replays from its journal), `waiting`
 * runs replay once in case their event or child arrived while no process ran them, and the
 * durable timer is armed for `sleeping`/`waiting` runs, running the ones already due.
 *
 * @returns how many runs were scheduled at once.
 */
export function recoverRuns(executor: Executor, runs: RunStore): number {
  const runnable = runs.runnable()
  for (const runId of runnable) executor.schedule(runId)
  executor.scanDue()
  return runnable.length
}
