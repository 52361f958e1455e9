import { readFileSync } from 'node:fs'
import { runThreeSteps } from './api-latency.js'
import type { BenchServer } from './bench-server.js'
import { createBenchTenant, forEachLimit, hibernateAll } from './fleet.js'
import { fleetDelta, scrapeFleet } from './prometheus.js'
import { withRetry } from './run-client.js'
import { progress, type ScenarioRecorder } from './scenario.js'
import { delay, round, summarize, toMb } from './stats.js'

/** Sizes of the many-active-tenants scenario. */
export interface ActiveTenantsOptions {
  readonly tenantIds: readonly string[]
  /** Each pass: one run on every tenant at once, then one on each in turn. */
  readonly passes: number
}

/** Wakes at once while bringing the fleet up (the control plane starts two per core anyway). */
const WAKE_CONCURRENCY = 4
/** Warm-up runs per tenant before anything is timed (JIT, connections, prepared statements). */
const WARM_UP_RUNS = 3
/**
 * Waking stops (the scenario fails) once the machine has less than this available: the
 * machine is shared, and about 140 MB per active tenant adds up (100 tenants ≈ 14 GB).
 */
const MIN_AVAILABLE_MB = 2_048
/** The target for a run's p99 with 100 tenants active (a figure, never asserted). */
const TARGET_P99_MS = 100
const verdict = (p99: number) => (p99 <= TARGET_P99_MS ? 'met' : 'missed')
/** Pause before the RSS reading, so every worker's memory reflects a settled, active tenant. */
const SETTLE_MS = 2_000

/**
 * Issue 12, "N tenants active at once on this machine": with LITECELL_MAX_WORKERS = N (and an
 * idle timeout longer than the scenario) all `tenantIds` are woken and stay active; then a
 * 3-step run (submit + await the result over HTTP) on each, all N at once, and again one
 * tenant after the other (round-robin), `passes` times. Reports p50 / p99 of each, failures,
 * the whole process tree's RSS with N workers, then hibernates them all. The check: every run
 * succeeded, every tenant stayed on its first worker, no worker crashed.
 */
export async function benchActiveTenants(
  server: BenchServer,
  options: ActiveTenantsOptions,
  r: ScenarioRecorder,
): Promise<void> {
  const ids = options.tenantIds
  const count = ids.length
  const wokeFrom = performance.now()
  // All created first: the registry's S3 confirmations are slower with many workers running.
  await forEachLimit(ids, WAKE_CONCURRENCY, (id) => createBenchTenant(server, id))
  let woken = 0
  await forEachLimit(ids, WAKE_CONCURRENCY, async (id) => {
    const availableMb = memAvailableMb()
    if (availableMb < MIN_AVAILABLE_MB) {
      throw new Error(`only ${availableMb} MB of memory left before waking ${id}: stopped`)
    }
    await withRetry(() => server.admin.wakeTenant(id))
    for (let n = 0; n < WARM_UP_RUNS; n++) await runThreeSteps(server, id, n)
    woken += 1
    if (woken % 10 === 0) progress(`${woken} / ${count} woken`)
  })
  const wakeSeconds = round((performance.now() - wokeFrom) / 1000, 1)
  progress(`${count} tenants created, woken and warmed up in ${wakeSeconds} s`)
  const workersBefore = await workerPids(server, ids)
  r.check(
    `all ${count} tenants active at once`,
    workersBefore.size === count,
    `${workersBefore.size} active`,
  )

  const before = await scrapeFleet(server.admin)
  server.sampler.resetPeak()
  const concurrentMs: number[] = []
  const sequentialMs: number[] = []
  const failures: string[] = []
  const attempt = async (id: string, n: number, into: number[]) => {
    try {
      into.push(await runThreeSteps(server, id, n))
    } catch (err) {
      failures.push(`${id}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  for (let pass = 0; pass < options.passes; pass++) {
    const from = performance.now()
    await Promise.all(ids.map((id) => attempt(id, pass, concurrentMs)))
    const allAtOnceS = round((performance.now() - from) / 1000, 2)
    for (const id of ids) await attempt(id, pass, sequentialMs)
    progress(`pass ${pass + 1}: ${count} runs at once in ${allAtOnceS} s, then ${count} in turn`)
  }
  await delay(SETTLE_MS)
  const { rssBytes, processes } = server.sampler.sample()
  const peakRssBytes = server.sampler.peakBytes
  const workersAfter = await workerPids(server, ids)
  const delta = fleetDelta(before, await scrapeFleet(server.admin))
  const runs = count * options.passes
  r.check(
    `every run succeeded (${2 * runs})`,
    failures.length === 0 && concurrentMs.length + sequentialMs.length === 2 * runs,
    failures.length ? failures.slice(0, 5).join('; ') : undefined,
  )
  const replaced = ids.filter((id) => workersAfter.get(id) !== workersBefore.get(id))
  r.check(
    'every tenant stayed active on its first worker (no wake, no crash while measured)',
    replaced.length === 0 && delta.wakes.ok === 0 && delta.crashes === 0,
    `${replaced.length} replaced, ${delta.wakes.ok} wakes, ${delta.crashes} crashes`,
  )

  const hibernateFrom = performance.now()
  // A tenant that crash-looped to `failed` never hibernates: a failed check, not a lost report.
  const hibernated = await hibernateAll(server).then(
    () => undefined,
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  )
  r.check('all tenants hibernated afterwards', hibernated === undefined, hibernated)
  const hibernateSeconds = round((performance.now() - hibernateFrom) / 1000, 1)
  progress(`all ${count} hibernated in ${hibernateSeconds} s`)
  await delay(SETTLE_MS)
  // What stays with no tenant active: the control plane, its registry's Litestream, a standby.
  const restMb = toMb(server.sampler.sample().rssBytes)
  const perTenantMb = round((toMb(rssBytes) - restMb) / count, 1)

  const concurrent = summarize(concurrentMs, 1)
  const sequential = summarize(sequentialMs, 1)
  const rssMb = toMb(rssBytes)
  r.figures.active = {
    tenants: count,
    passes: options.passes,
    concurrentMs: concurrent,
    sequentialMs: sequential,
    failures: failures.length,
    failureSamples: failures.slice(0, 10),
    wakeAndWarmUpSeconds: wakeSeconds,
    treeRssMb: rssMb,
    peakTreeRssMb: toMb(peakRssBytes),
    treeProcesses: processes.length,
    treeRssAtRestMb: restMb,
    rssPerActiveTenantMb: perTenantMb,
    hibernateAllSeconds: hibernateSeconds,
    target: {
      p99Ms: TARGET_P99_MS,
      concurrent: verdict(concurrent.p99),
      sequential: verdict(sequential.p99),
    },
  }
  r.row(`${count} tenants active at once (LITECELL_MAX_WORKERS=${count})`, `${count} workers`)
  r.row(
    `  3-step run, all ${count} at once, p50 / p99 ms (${concurrent.n} runs)`,
    `${concurrent.p50} / ${concurrent.p99} (p99 ≤ ${TARGET_P99_MS} ms: ${verdict(concurrent.p99)})`,
  )
  r.row(
    `  3-step run, one tenant after the other, p50 / p99 ms (${sequential.n} runs)`,
    `${sequential.p50} / ${sequential.p99} (p99 ≤ ${TARGET_P99_MS} ms: ${verdict(sequential.p99)})`,
  )
  r.row('  failed runs', failures.length)
  r.row(
    `  RSS of the whole process tree, MB (${processes.length} processes); at rest; per active tenant`,
    `${rssMb}; ${restMb}; ${perTenantMb}`,
  )
  r.row(
    `  creating + waking + warming up all, then hibernating all, s`,
    `${wakeSeconds}, ${hibernateSeconds}`,
  )
}

/** Each tenant's worker pid, for the tenants that are active. */
async function workerPids(
  server: BenchServer,
  ids: readonly string[],
): Promise<Map<string, number>> {
  const wanted = new Set(ids)
  const pids = new Map<string, number>()
  for (const tenant of await server.admin.listTenants()) {
    const pid = tenant.worker?.pid as number | undefined
    if (wanted.has(tenant.id) && tenant.state === 'active' && pid) pids.set(tenant.id, pid)
  }
  return pids
}

/** MemAvailable of /proc/meminfo, MB (what can still be allocated without swapping). */
function memAvailableMb(): number {
  const line = readFileSync('/proc/meminfo', 'utf8').match(/^MemAvailable:\s+(\d+) kB/m)
  return line ? Math.round(Number(line[1]) / 1024) : Number.POSITIVE_INFINITY
}
