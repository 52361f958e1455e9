import type { BenchServer } from './bench-server.js'
import { submitBatch, waitForRunsEnded, withRetry } from './run-client.js'
import { progress, type ScenarioRecorder } from './scenario.js'
import { median, medianOf, round, summarize } from './stats.js'

/** Sizes of the through-the-API scenario. */
export interface ApiLatencyOptions {
  /**
   * Runs before the timed repeats. V8 needs about 2,000 runs in each process (control plane,
   * worker, this client) before its hot paths are optimized: the first `sequentialRuns` of
   * them are recorded apart as the cold figure (a worker freshly woken is that cold).
   */
  readonly warmupRuns: number
  /** 3-step runs submitted and awaited one after another, per repeat. */
  readonly sequentialRuns: number
  /** Runs in the one batch call, per repeat. */
  readonly batchRuns: number
  readonly repeats: number
}

const TENANT = 'bench-api'
/** Longest the batch may take to finish. */
const BATCH_TIMEOUT_MS = 300_000

/**
 * Scenario 2: a 3-step workflow submitted (`POST …/runs`) and awaited (`GET …/result?waitMs=`)
 * over HTTP, one after another, cold (the first ones after start) and warm (after `warmupRuns`);
 * then `batchRuns` runs in one `POST …/runs/batch`, timed until every one has succeeded. The
 * tenant is woken first, so no wake is timed here.
 */
export async function benchApiLatency(server: BenchServer, options: ApiLatencyOptions, recorder: ScenarioRecorder): Promise<void> {
  const admin = server.admin
  await admin.createTenant({ id: TENANT, app: 'bench' })
  await admin.wakeTenant(TENANT)
  const warmup: number[] = []
  for (let i = 0; i < options.warmupRuns; i++) warmup.push(await runThreeSteps(server, TENANT, i))
  if (options.warmupRuns >= options.sequentialRuns && options.sequentialRuns > 0) {
    const cold = summarize(warmup.slice(0, options.sequentialRuns), 3)
    recorder.figures.coldSequential3Step = { runs: options.sequentialRuns, ...cold }
    progress(`cold (the first ${options.sequentialRuns} after start): mean ${cold.mean} / p50 ${cold.p50} / p99 ${cold.p99} ms`)
    recorder.row(
      `3-step run over HTTP, the first ${options.sequentialRuns} after the processes started (JIT cold), mean / p50 / p99 ms`,
      `${cold.mean} / ${cold.p50} / ${cold.p99}`,
    )
  }

  const sequential = []
  for (let repeat = 0; repeat < options.repeats; repeat++) {
    const samples: number[] = []
    for (let i = 0; i < options.sequentialRuns; i++) samples.push(await runThreeSteps(server, TENANT, i))
    const summary = summarize(samples, 3)
    sequential.push(summary)
    progress(`sequential #${repeat + 1}: ${options.sequentialRuns} runs, mean ${summary.mean} / p50 ${summary.p50} / p99 ${summary.p99} ms`)
  }
  const sequentialMedian = medianOf(sequential.map(({ mean, p50, p99 }) => ({ mean, p50, p99 })))
  recorder.figures.sequential3Step = { runsPerRepeat: options.sequentialRuns, median: sequentialMedian, repeats: sequential }
  recorder.row(
    `3-step run, submit + await over HTTP, mean / p50 / p99 ms (${options.sequentialRuns} sequential, after ${options.warmupRuns} warm-up runs)`,
    `${sequentialMedian.mean} / ${sequentialMedian.p50} / ${sequentialMedian.p99}`,
  )

  const batches = []
  for (let repeat = 0; repeat < options.repeats; repeat++) {
    const runs = Array.from({ length: options.batchRuns }, (_, n) => ({ workflow: 'three-steps', input: { n } }))
    const startedMs = performance.now()
    const runIds = await submitBatch(admin, TENANT, runs)
    const acceptedMs = performance.now() - startedMs
    const rows = await waitForRunsEnded(admin, TENANT, runIds, BATCH_TIMEOUT_MS)
    const seconds = (performance.now() - startedMs) / 1000
    const succeeded = rows.filter((row) => row.status === 'succeeded').length
    recorder.check(`batch #${repeat + 1}: all ${options.batchRuns} runs succeeded`, succeeded === options.batchRuns, `${succeeded} succeeded`)
    const runsPerSec = round(options.batchRuns / seconds, 0)
    batches.push({ runsPerSec, seconds: round(seconds, 3), acceptedMs: round(acceptedMs, 1) })
    progress(`batch #${repeat + 1}: ${options.batchRuns} runs in ${round(seconds, 2)} s (${runsPerSec} runs/s; accepted in ${round(acceptedMs, 0)} ms)`)
  }
  const batchMedian = {
    runsPerSec: median(batches.map((b) => b.runsPerSec)),
    acceptedMs: round(median(batches.map((b) => b.acceptedMs)), 1),
  }
  recorder.figures.batch = { runs: options.batchRuns, median: batchMedian, repeats: batches }
  recorder.row(`${options.batchRuns} runs in one batch call → all succeeded, runs/s`, batchMedian.runsPerSec)
  recorder.row(`  batch call accepted (202) after, ms`, batchMedian.acceptedMs)
}

/** One 3-step run submitted and awaited; returns its latency in ms. Throws unless it succeeded correctly. */
export async function runThreeSteps(server: BenchServer, tenantId: string, n: number): Promise<number> {
  const startedMs = performance.now()
  const submitted = await withRetry(() => server.admin.startRun(tenantId, { workflow: 'three-steps', input: { n } }))
  const result = await server.admin.runResult(tenantId, submitted.runId, { waitMs: 30_000 })
  const latencyMs = performance.now() - startedMs
  if (result.status !== 'succeeded' || result.output !== n + 3) {
    throw new Error(`three-steps run ${submitted.runId}: ${JSON.stringify(result)}`)
  }
  return latencyMs
}
