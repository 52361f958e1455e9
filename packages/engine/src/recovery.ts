import { EngineError } from './engine-error.js'
import type { Executor } from './executor.js'
import type { GroupCommit } from './group-commit.js'
import type { EngineObserver } from './observer.js'
import { errorText } from './recorded-error.js'
import type { CrashedRun, RunStore } from './run-store.js'

/**
 * Abnormal ends in a row (process deaths, or a close that had to abandon it) during which a
 * run was executing without making durable progress, after which the run is quarantined:
 * `failed` with `RUN_QUARANTINED`, and not recovered again until someone resumes it.
 */
export const QUARANTINE_AFTER_CRASHES = 3

/** A run quarantined when the engine opened. */
export interface QuarantinedRun {
  readonly runId: string
  readonly workflow: string
}

/** What {@link recoverRuns} found when the engine opened. */
export interface RecoveryReport {
  /** Runs that were executing when the previous process ended abnormally. */
  readonly crashed: number
  /** Runs quarantined now (they were executing during their third such end in a row). */
  readonly quarantined: readonly QuarantinedRun[]
  /** Runs recovered on probation, one at a time, before any other run executes. */
  readonly suspects: number
}

/** What recovery needs from the engine. */
export interface RecoveryHost {
  readonly executor: Executor
  readonly runs: RunStore
  readonly writer: GroupCommit
  readonly clock: () => number
  readonly observer: EngineObserver | undefined
}

/**
 * Recovers every unfinished run when an engine opens.
 *
 * A clean close leaves no run `running` (it puts the runs it stopped back to `pending`), so
 * each `running` run was executing when the previous process died (or when a close gave up
 * waiting for it): one more crash is counted against it and it becomes `pending`. A run at
 * {@link QUARANTINE_AFTER_CRASHES} is quarantined instead, so a run that kills its worker
 * (`process.exit`, a native crash, an exhausted heap, a loop that starves the heartbeats)
 * cannot crash-loop its tenant. Runs with crashes counted ("suspects") are recovered on
 * probation, one at a time and before any other run (see {@link Executor.beginProbation}), so
 * the next death is attributed to exactly one run; a suspect's first durable progress clears
 * its count.
 *
 * Runs past their deadline are cancelled first (with their children). Then `pending` runs
 * execute, `waiting` runs replay once in case their event or child
 * arrived while no process ran them, and the durable timer is armed for `sleeping`/`waiting`
 * runs, running the ones already due.
 *
 * @throws {EngineError} `STORAGE_FAILED` if the crash bookkeeping cannot be committed.
 */
export async function recoverRuns(host: RecoveryHost): Promise<RecoveryReport> {
  const { executor, runs, writer, clock, observer } = host
  const nowMs = clock()
  let crashed: CrashedRun[] = []
  let quarantined: CrashedRun[] = []
  if (runs.hasRunning()) {
    writer.write(() => {
      crashed = runs.countCrashes(nowMs)
      quarantined = crashed.filter((run) => run.crash_count >= QUARANTINE_AFTER_CRASHES)
      for (const run of quarantined) {
        runs.finish(run.run_id, 'failed', null, errorText(quarantineError(run)), nowMs)
      }
    })
    const committed = writer.durable()
    writer.flushNow()
    await committed
  }
  for (const run of quarantined) observer?.onRunStatus?.(run.run_id, run.workflow, 'failed')
  // Runs past their deadline (it passed while no process ran them, e.g. hibernated) are
  // cancelled before anything executes; the cancellation is in the batch the reads below see.
  executor.expireDeadlines(clock())
  const suspects = runs.suspects()
  executor.beginProbation(suspects)
  for (const runId of runs.runnable()) executor.schedule(runId)
  executor.scanDue()
  return {
    crashed: crashed.length,
    quarantined: quarantined.map((run) => ({ runId: run.run_id, workflow: run.workflow })),
    suspects: suspects.length,
  }
}

function quarantineError(run: CrashedRun): EngineError {
  return new EngineError(
    'RUN_QUARANTINED',
    `run ${run.run_id} (workflow ${run.workflow}) was executing during ${run.crash_count} abnormal ends of its process in a row without making progress (the process died: process.exit in app code, a native crash, an exhausted heap, or a loop that starved its heartbeats); it is quarantined and not recovered again, so the tenant's other runs go on. The worker's log shows how the process died; fix the cause, then resume the run to retry it`,
  )
}
