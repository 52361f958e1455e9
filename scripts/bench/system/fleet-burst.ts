import type { BenchServer } from './bench-server.js'
import { hibernateAll } from './fleet.js'
import { fleetDelta, scrapeFleet } from './prometheus.js'
import { RetryCounter, submitBatch, waitForRunsEnded } from './run-client.js'
import { progress, type ScenarioRecorder } from './scenario.js'
import { median, round, summarize, toMb, type Summary } from './stats.js'

/** Sizes of the fleet burst. */
export interface FleetBurstOptions {
  readonly tenantIds: readonly string[]
  readonly runsPerTenant: number
  readonly maxWorkers: number
  readonly repeats: number
}

/** One burst's figures. */
interface BurstFigures {
  seconds: number
  runsPerSec: number
  runLatencyMs: Summary
  peakRssMb: number
  peakProcesses: number
  /** Most worker processes at once, standby included: the cap is LITECELL_MAX_WORKERS (+ standby). */
  peakWorkers: number
  wakes: number
  hibernations: number
  wakeMeanMs: number | null
  hibernateMeanMs: number | null
  clientRetries: { overCapacity429: number; startFailures503: number; networkErrors: number }
}

/** Standby workers the server keeps (LITECELL_STANDBY_WORKERS, left at its default). */
const STANDBY_WORKERS = 1

/**
 * The burst is aborted (the server's whole tree SIGKILLed) once this many worker processes
 * exist beyond the cap: a platform that ignores LITECELL_MAX_WORKERS would otherwise start a
 * worker per tenant at once and exhaust the machine's memory.
 */
const OVERSHOOT_ABORT_FACTOR = 2

/** Longest one burst may take. */
const BURST_TIMEOUT_MS = 20 * 60_000

/**
 * Scenario 5: every tenant hibernated, then all of them get `runsPerTenant` 3-step runs at
 * once (one batch call per tenant, all tenants concurrently; a 429 is retried with backoff).
 * Timed until every run has succeeded. A run's latency runs from its tenant's first submit
 * attempt to the run's end as the engine recorded it (same machine clock). Peak RSS is the
 * whole server process tree's (control plane, workers, every Litestream), sampled every 200 ms.
 */
export async function benchFleetBurst(server: BenchServer, options: FleetBurstOptions, recorder: ScenarioRecorder): Promise<void> {
  const total = options.tenantIds.length * options.runsPerTenant
  const repeats: BurstFigures[] = []
  for (let repeat = 0; repeat < options.repeats; repeat++) {
    await hibernateAll(server)
    const before = await scrapeFleet(server.admin)
    recorder.check(`burst #${repeat + 1}: no worker active before the burst`, before.activeWorkers === 0, `${before.activeWorkers} active`)
    server.sampler.resetPeak()
    const retries = new RetryCounter()
    const latenciesMs: number[] = []
    let failedRuns = 0
    const startedMs = Date.now()
    const deadline = startedMs + BURST_TIMEOUT_MS
    const abortAt = OVERSHOOT_ABORT_FACTOR * options.maxWorkers + STANDBY_WORKERS
    let tripped!: (err: Error) => void
    const guard = new Promise<never>((_, reject) => (tripped = reject))
    guard.catch(() => undefined)
    server.sampler.watch(({ workers }) => {
      if (workers <= abortAt) return
      server.sampler.watch(undefined)
      const message = `${workers} worker processes at once with LITECELL_MAX_WORKERS=${options.maxWorkers} (abort above ${abortAt}): the cap does not hold; server tree killed to protect the machine`
      progress(message)
      void server.killTree().then(() => tripped(new Error(`burst #${repeat + 1} aborted: ${message}`)))
    })
    const clients = Promise.all(
      options.tenantIds.map(async (id) => {
        const submitMs = Date.now()
        const runs = Array.from({ length: options.runsPerTenant }, (_, n) => ({ workflow: 'three-steps', input: { n } }))
        const runIds = await submitBatch(server.admin, id, runs, retries)
        const rows = await waitForRunsEnded(server.admin, id, runIds, Math.max(1, deadline - Date.now()))
        for (const row of rows) {
          if (row.status === 'succeeded') latenciesMs.push(Number(row.updated_at) - submitMs)
          else failedRuns += 1
        }
        if (rows.length !== runIds.length) failedRuns += runIds.length - rows.length
      }),
    )
    try {
      await Promise.race([clients, guard])
    } finally {
      server.sampler.watch(undefined)
    }
    const seconds = (Date.now() - startedMs) / 1000
    server.sampler.sample()
    const delta = fleetDelta(before, await scrapeFleet(server.admin))
    const latency = summarize(latenciesMs, 0)
    recorder.check(`burst #${repeat + 1}: all ${total} runs succeeded`, latenciesMs.length === total && failedRuns === 0, `${latenciesMs.length} succeeded, ${failedRuns} not`)
    recorder.check(
      `burst #${repeat + 1}: no wake or hibernation failed, no worker crashed`,
      delta.wakes.error === 0 && delta.hibernations.error === 0 && delta.crashes === 0 && retries.startFailures === 0,
      `${JSON.stringify(delta)}; ${retries.startFailures} × 503 WORKER_START_FAILED retried by the client`,
    )
    const figures: BurstFigures = {
      seconds: round(seconds, 2),
      runsPerSec: round(total / seconds, 0),
      runLatencyMs: latency,
      peakRssMb: toMb(server.sampler.peakBytes),
      peakProcesses: server.sampler.peakProcesses,
      peakWorkers: server.sampler.peakWorkers,
      wakes: delta.wakes.ok,
      hibernations: delta.hibernations.ok,
      wakeMeanMs: delta.wakes.okMeanMs,
      hibernateMeanMs: delta.hibernations.okMeanMs,
      clientRetries: { overCapacity429: retries.overCapacity, startFailures503: retries.startFailures, networkErrors: retries.networkErrors },
    }
    repeats.push(figures)
    progress(
      `burst #${repeat + 1}: ${total} runs in ${figures.seconds} s, p99 ${latency.p99} ms, peak ${figures.peakRssMb} MB / ${figures.peakProcesses} processes / ${figures.peakWorkers} workers, ${figures.wakes} wakes, ${figures.hibernations} hibernations, ${retries.overCapacity} × 429`,
    )
  }
  const med = (pick: (f: BurstFigures) => number | null) => round(median(repeats.map((f) => pick(f) ?? Number.NaN)), 1)
  const summary = {
    seconds: med((f) => f.seconds),
    p50Ms: med((f) => f.runLatencyMs.p50),
    p99Ms: med((f) => f.runLatencyMs.p99),
    peakRssMb: med((f) => f.peakRssMb),
    peakWorkers: Math.max(...repeats.map((f) => f.peakWorkers)),
    wakes: med((f) => f.wakes),
    hibernations: med((f) => f.hibernations),
    overCapacity429: med((f) => f.clientRetries.overCapacity429),
  }
  recorder.figures.burst = {
    tenants: options.tenantIds.length,
    runsPerTenant: options.runsPerTenant,
    maxWorkers: options.maxWorkers,
    median: summary,
    repeats,
  }
  const shape = `${options.tenantIds.length} tenants × ${options.runsPerTenant} runs, max ${options.maxWorkers} workers`
  recorder.row(`fleet burst (${shape}) → all ${total} succeeded, s`, summary.seconds)
  recorder.row(`  run latency p50 / p99 ms`, `${summary.p50Ms} / ${summary.p99Ms}`)
  recorder.row(`  peak RSS of the whole system, MB`, summary.peakRssMb)
  const cap = options.maxWorkers + STANDBY_WORKERS
  recorder.row(
    `  most worker processes at once (cap ${options.maxWorkers} + ${STANDBY_WORKERS} standby)`,
    `${summary.peakWorkers}${summary.peakWorkers > cap ? ' — OVER THE CAP (see report)' : ''}`,
  )
  recorder.row(`  wakes / hibernations it took`, `${summary.wakes} / ${summary.hibernations}`)
  recorder.row(`  429s absorbed by client retries`, summary.overCapacity429)
}
