import { apiPath, type LitecellClient, type RunStatus, type StartRunRequest } from '@litecell/client'
import { CliError, cliErrorOf } from './cli-error.js'
import { countJsonLines, isRereadable, readJsonLines } from './jsonl-reader.js'
import type { BatchCounts } from './progress.js'
import { RunCompletions, type EndedRun } from './run-completions.js'

/** Runs per `POST …/runs/batch` request. */
export const DEFAULT_CHUNK_RUNS = 500
/** Most runs per request the API takes. */
export const MAX_CHUNK_RUNS = 10_000
/** A chunk is sent early once its inputs reach this size (the API refuses bodies over 1 MiB). */
export const MAX_CHUNK_BYTES = 512 * 1024
/** Submitted runs not yet ended before submission pauses: bounds memory when waiting. */
export const MAX_BACKLOG_RUNS = 50_000

/** Start options `runs batch` gives every run it submits. */
export type RunOptions = Pick<
  StartRunRequest,
  'queue' | 'priority' | 'partitionKey' | 'tags' | 'timeoutMs'
>

/** What `runs batch` submits, and how. */
export interface BatchOptions {
  readonly client: LitecellClient
  readonly tenantId: string
  readonly workflow: string
  /** JSONL file, one run input per line; `-` for stdin. */
  readonly path: string
  /** @default DEFAULT_CHUNK_RUNS */
  readonly chunkRuns?: number
  /** Wait for every run to end. */
  readonly wait: boolean
  /** Options of every run: queue, priority, partition, tags, timeout. */
  readonly runOptions?: RunOptions
  /** Idempotency key of each run: this prefix plus its line number, so a re-run resubmits nothing. */
  readonly idempotencyPrefix?: string | undefined
  /** Called after every change (submitted chunk, ended run). */
  readonly onProgress?: (counts: BatchCounts) => void
}

/** The outcome of a batch (`--json` prints it). */
export interface BatchSummary {
  tenant: string
  workflow: string
  submitted: number
  /** Whether runs were waited for; the counts below are zero if not. */
  waited: boolean
  succeeded: number
  failed: number
  cancelled: number
  elapsedMs: number
  /** Runs that failed or were cancelled. */
  failedRunIds: string[]
  /**
   * Every run, in input order: its input's line, its id, and its final status (`null` when
   * not waited for).
   */
  runs: BatchRun[]
}

/** One run of a batch. */
export interface BatchRun {
  line: number
  runId: string
  status: RunStatus | null
}

/**
 * Submits a JSONL file of run inputs in chunks, one `POST …/runs/batch` (one commit) each.
 * The file is read twice, streaming both times: first to check every line and count them
 * (so a bad line stops the batch before anything is submitted, and the ETA knows the total),
 * then to submit. Stdin or a pipe is read once; a bad line then stops the batch at that
 * line's chunk, with the chunks before it submitted and that chunk not.
 */
export async function submitBatch(options: BatchOptions): Promise<BatchSummary> {
  const { client, tenantId, workflow, path } = options
  const chunkRuns = options.chunkRuns ?? DEFAULT_CHUNK_RUNS
  const startedAtMs = Date.now()
  const total = (await isRereadable(path)) ? await countJsonLines(path) : undefined
  const summary: BatchSummary = {
    tenant: tenantId,
    workflow,
    submitted: 0,
    waited: options.wait,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    elapsedMs: 0,
    failedRunIds: [],
    runs: [],
  }
  // A run id appears twice when two lines carry one idempotency key: both get its status.
  const byRunId = new Map<string, BatchRun[]>()
  const report = () =>
    options.onProgress?.({
      total,
      submitted: summary.submitted,
      succeeded: summary.succeeded,
      failed: summary.failed + summary.cancelled,
    })
  const completions = options.wait
    ? new RunCompletions(client, tenantId, {
        onEnd: (run) => {
          count(summary, run)
          for (const entry of byRunId.get(run.runId) ?? []) entry.status = run.status
          report()
        },
      })
    : undefined
  report()

  let chunk: object[] = []
  let chunkLines: number[] = []
  let chunkBytes = 0
  let firstLine = 0
  let lastLine = 0
  let submittedThroughLine = 0
  const flush = async () => {
    if (chunk.length === 0) return
    while (completions && completions.pending > MAX_BACKLOG_RUNS) await delay(50)
    completions?.throwIfFailed()
    try {
      const { runIds } = await client.post<{ runIds: string[] }>(
        apiPath('tenants', tenantId, 'runs', 'batch'),
        { runs: chunk },
      )
      summary.submitted += runIds.length
      submittedThroughLine = lastLine
      runIds.forEach((runId, index) => {
        const entry: BatchRun = { line: chunkLines[index] ?? 0, runId, status: null }
        summary.runs.push(entry)
        byRunId.set(runId, [...(byRunId.get(runId) ?? []), entry])
      })
      completions?.add(runIds)
    } catch (err) {
      const cause = cliErrorOf(err) ?? (err as CliError)
      throw new CliError(
        cause.code ?? 'ERROR',
        `submit lines ${firstLine}-${lastLine} of ${path}: ${cause.message} (${summary.submitted} runs submitted before)`,
        { exitCode: cause.exitCode, cause },
      )
    }
    chunk = []
    chunkLines = []
    chunkBytes = 0
    report()
  }

  try {
    for await (const line of readJsonLines(path)) {
      if (chunk.length === 0) firstLine = line.lineNumber
      lastLine = line.lineNumber
      const run: Record<string, unknown> = { ...options.runOptions, workflow, input: line.value }
      if (options.idempotencyPrefix !== undefined) {
        run.idempotencyKey = `${options.idempotencyPrefix}${line.lineNumber}`
      }
      chunk.push(run)
      chunkLines.push(line.lineNumber)
      chunkBytes += line.bytes
      if (chunk.length >= chunkRuns || chunkBytes >= MAX_CHUNK_BYTES) await flush()
    }
    await flush()
    await completions?.drained()
  } catch (err) {
    completions?.abandon()
    if ((err as CliError).code === 'INVALID_JSONL' && summary.submitted > 0) {
      const cause = err as CliError
      throw new CliError(
        cause.code,
        `${cause.message} (lines 1-${submittedThroughLine} were submitted, nothing after them)`,
        { exitCode: cause.exitCode, cause },
      )
    }
    throw err
  }
  summary.elapsedMs = Date.now() - startedAtMs
  return summary
}

function count(summary: BatchSummary, run: EndedRun): void {
  if (run.status === 'succeeded') summary.succeeded += 1
  else if (run.status === 'cancelled') summary.cancelled += 1
  else summary.failed += 1
  if (run.status !== 'succeeded') summary.failedRunIds.push(run.runId)
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
