/**
 * How runs read for people, and the exit codes of commands that wait for them. With `--json`
 * each prints the API body (or the batch summary) instead.
 */
import type { RunDetail, RunWait, WaitOutcome } from '@litecell/client'
import { EXIT_CODES } from './cli-error.js'
import { formatDuration, formatTime, formatValue, truncate, type Output } from './output.js'
import type { BatchSummary } from './run-batch.js'
import { TIMELINE_HEAD, runDurationMs, timelineRows } from './run-timeline.js'

/** Failed run ids a batch lists for people (all of them are in `--json`). */
export const LISTED_FAILURES = 10

/** Prints a waited-for run and sets the exit code: 5 failed or cancelled, 6 timed out. */
export function finishWait(
  output: Output,
  outcome: WaitOutcome,
  timeoutMs: number | undefined,
): void {
  const { run, timedOut } = outcome
  output.result(run, () => {
    const took = formatDuration(runDurationMs(run))
    if (timedOut) output.line(`run ${run.runId}: still ${run.status}`)
    else if (run.status === 'succeeded') output.line(`run ${run.runId} succeeded in ${took}`)
    else
      output.line(
        `run ${run.runId} ${run.status} after ${took}${run.error ? `: ${errorText(run.error)}` : ''}`,
      )
    if (run.status === 'succeeded') output.line(`output: ${formatValue(run.output)}`)
  })
  if (timedOut) {
    output.note(
      `litecell: timed out after ${formatDuration(timeoutMs ?? 0)} waiting for run ${run.runId} (still ${run.status})`,
    )
    process.exitCode = EXIT_CODES.TIMEOUT
  } else if (run.status !== 'succeeded') {
    process.exitCode = EXIT_CODES.RUN_FAILED
  }
}

/** Prints a run's fields and its steps as a timeline. */
export function printRun(output: Output, run: RunDetail, tenantId?: string): void {
  output.fields([
    ['run', run.runId],
    ['workflow', run.workflow],
    ['status', run.status],
    ['waiting for', run.waitingFor ? waitText(run.waitingFor, run.runId, tenantId) : null],
    ['queue', run.queue ?? null],
    ['parent', run.parentRunId ?? null],
    // Flow-control attributes only when the run has them.
    ...optionalFields(run),
    ['created', formatTime(run.createdAt)],
    ['updated', formatTime(run.updatedAt)],
    ['duration', formatDuration(runDurationMs(run))],
    ['input', truncate(formatValue(run.input), 200)],
    ['output', truncate(formatValue(run.output), 200)],
    ['error', run.error ? errorText(run.error) : null],
  ])
  output.line()
  output.table(TIMELINE_HEAD, timelineRows(run), '(no steps recorded yet)')
}

/** The run's flow-control attributes that are set, as `fields` rows. */
function optionalFields(run: RunDetail): [string, string | number][] {
  const rows: [string, string | number | undefined][] = [
    ['priority', run.priority],
    ['partition', run.partitionKey],
    ['dedup id', run.deduplicationId],
    ['debounce', run.debounceKey],
    ['deadline', run.deadlineAt === undefined ? undefined : formatTime(run.deadlineAt)],
    [
      'tags',
      run.tags === undefined
        ? undefined
        : Object.entries(run.tags)
            .map(([key, value]) => `${key}=${value}`)
            .join(', '),
    ],
  ]
  return rows.filter((row): row is [string, string | number] => row[1] !== undefined)
}

/** Prints the one-line outcome of a batch and the first runs that did not succeed. */
export function printBatch(output: Output, summary: BatchSummary): void {
  const took = formatDuration(summary.elapsedMs)
  if (!summary.waited) {
    output.line(
      `submitted ${summary.submitted} runs of ${summary.workflow} to ${summary.tenant} in ${took}`,
    )
    return
  }
  output.line(
    `${summary.submitted} runs of ${summary.workflow} on ${summary.tenant} in ${took}: ${summary.succeeded} succeeded, ${summary.failed} failed, ${summary.cancelled} cancelled`,
  )
  const shown = summary.failedRunIds.slice(0, LISTED_FAILURES)
  for (const runId of shown)
    output.line(`  not succeeded: ${runId} (litecell runs show ${summary.tenant} ${runId})`)
  if (summary.failedRunIds.length > shown.length)
    output.line(`  … and ${summary.failedRunIds.length - shown.length} more (see --json)`)
}

/** What a parked run waits for, in words, with the command that ends the wait where there is one. */
export function waitText(wait: RunWait, runId: string, tenantId = '<tenant>'): string {
  switch (wait.kind) {
    case 'timer':
      return `a durable timer, until ${formatTime(wait.until)}`
    case 'retry':
      return `the next attempt of step \`${wait.step}\`, at ${formatTime(wait.at)}`
    case 'event':
      return `event \`${wait.event}\`${wait.timeoutAt ? ` (gives up at ${formatTime(wait.timeoutAt)})` : ''}; send it with \`litecell runs event ${tenantId} ${runId} ${wait.event}\``
    case 'child':
      return `child run ${wait.childRunId ?? '(unknown)'} (${wait.workflow})`
  }
}

function errorText(error: NonNullable<RunDetail['error']>): string {
  return [error.name, error.code, error.message].filter(Boolean).join(': ')
}
