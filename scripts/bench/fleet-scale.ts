/**
 * `pnpm bench:fleet`: the fleet at scale (issue 12), end to end through a real `litecell serve`.
 * Kept apart from `pnpm bench` so that `pnpm bench --quick` keeps its time in CI.
 *
 * 1. Registry scale: `--tenants` (default 10,000) tenants created over the API, 8 requests at
 *    a time (`--create-concurrency`; the create rate), every one hibernated (created so); then pages of `GET /v1/tenants`
 *    (`limit=100`, walking the cursor through all of them, plus `state=` and `label.` filters):
 *    p50 / p99 per page; the control plane's own RSS (not its workers') at rest.
 * 2. With `--burst`: the fleet burst of `pnpm bench` (200 tenants × 20 runs, max 16 workers;
 *    `--burst-tenants`, `--runs`, `--max-workers` change it), tenants never run before (the
 *    full `pnpm bench` seeds them first): every run must succeed, with no 429 reaching the
 *    client.
 * 3. With `--active N`: N tenants active at once (LITECELL_MAX_WORKERS=N, an idle timeout longer
 *    than the scenario): a 3-step run on each, all at once and one after the other (`--passes`
 *    times, default 3), p50 / p99, failures, RSS of the whole process tree; then all hibernated.
 * 4. With `--timers N`: N hibernated tenants, each with a durable timer, due evenly over
 *    `--spread-s` seconds (default 300), `--max-workers` (default 16): every timer must fire;
 *    lateness p50 / p99 / max. Seeding costs a wake and a hibernation per tenant
 *    (`--seed-concurrency` at once, default 8; `--lead-s` overrides the pilot's estimate of it).
 *
 * The registry scale runs when `--tenants` is given or no other mode is (so `--active 8` alone
 * runs only that). Each of `--active` and `--timers` gets a server of its own.
 *
 * Prints JSON and writes `bench-results/fleet-scale.json`. Exits 1 if a check failed.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { BenchServer } from './system/bench-server.js'
import { createTenants, forEachLimit } from './system/fleet.js'
import { benchActiveTenants } from './system/active-tenants.js'
import { benchFleetBurst } from './system/fleet-burst.js'
import { describeMachine } from './system/machine.js'
import { writeReport, type BenchReport } from './system/report.js'
import {
  progress,
  runScenario,
  type ScenarioRecorder,
  type ScenarioResult,
} from './system/scenario.js'
import { round, summarize } from './system/stats.js'
import { benchTimerLateness } from './system/timer-lateness.js'

const RESULTS_PATH = resolve(import.meta.dirname, '../../bench-results/fleet-scale.json')
const PAGE = 100
/**
 * The burst's clients are willing to wait: on 2 shared cores a wake and a verified hibernation
 * cost over a CPU-second each, so the last of 200 tenants waits more than the default 60 s.
 */
const BURST_WAKE_WAIT_MS = 600_000
/** `--active`: no tenant may hibernate by itself while the scenario runs. */
const ACTIVE_IDLE_MS = 3_600_000

const { values } = parseArgs({
  options: {
    tenants: { type: 'string' },
    burst: { type: 'boolean', default: false },
    'burst-tenants': { type: 'string', default: '200' },
    runs: { type: 'string', default: '20' },
    'max-workers': { type: 'string', default: '16' },
    'wake-wait-ms': { type: 'string', default: String(BURST_WAKE_WAIT_MS) },
    active: { type: 'string' },
    passes: { type: 'string', default: '3' },
    timers: { type: 'string' },
    'spread-s': { type: 'string', default: '300' },
    'seed-concurrency': { type: 'string', default: '8' },
    'create-concurrency': { type: 'string', default: '8' },
    'lead-s': { type: 'string' },
  },
})
/**
 * Creates in flight at once. Each create answers once the registry's S3 confirmation covers it
 * (one shared per turn, ≈ 100–200 ms): the rate is about this many per confirmation round.
 */
const CREATE_CONCURRENCY = Number(values['create-concurrency'])
const machine = describeMachine()
const startedMs = performance.now()

/** The control plane process's own resident set (its workers are other processes). */
function ownRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m)
  return line ? round(Number(line[1]) / 1024, 1) : Number.NaN
}

async function benchRegistryScale(
  server: BenchServer,
  count: number,
  r: ScenarioRecorder,
): Promise<void> {
  const ids = Array.from({ length: count }, (_, n) => `scale-${String(n).padStart(5, '0')}`)
  const createdFrom = performance.now()
  await forEachLimit(ids, CREATE_CONCURRENCY, async (id) => {
    await server.admin.createTenant({
      id,
      app: 'bench',
      labels: { group: `g${Number(id.slice(6)) % 10}` },
    })
  })
  const createSeconds = (performance.now() - createdFrom) / 1000
  const createsPerSec = round(count / createSeconds, 0)
  progress(`${count} tenants created in ${round(createSeconds, 1)} s (${createsPerSec}/s)`)
  const fleet = (await server.admin.fleet()) as { tenants: Record<string, number> }
  r.check(
    `all ${count} tenants hibernated`,
    (fleet.tenants.hibernated ?? 0) >= count,
    JSON.stringify(fleet.tenants),
  )

  const pageMs: number[] = []
  const timed = async (query: Parameters<typeof server.admin.listTenantPage>[0]) => {
    const from = performance.now()
    const page = await server.admin.listTenantPage(query)
    pageMs.push(performance.now() - from)
    return page
  }
  let cursor: string | undefined
  let seen = 0
  do {
    const page = await timed({ limit: PAGE, ...(cursor ? { cursor } : {}) })
    seen += page.tenants.length
    cursor = page.nextCursor ?? undefined
  } while (cursor)
  r.check('walking the cursor lists every tenant once', seen >= count, `${seen} listed`)
  const filteredMs: number[] = []
  for (let n = 0; n < 100; n++) {
    const from = performance.now()
    await server.admin.listTenantPage({ limit: PAGE, state: 'hibernated' })
    await server.admin.listTenantPage({ limit: PAGE, labels: { group: `g${n % 10}` } })
    filteredMs.push((performance.now() - from) / 2)
  }
  await new Promise((done) => setTimeout(done, 2_000))
  const rssMb = ownRssMb(server.pid)
  const pages = summarize(pageMs)
  const filtered = summarize(filteredMs)
  r.figures.registry = {
    tenants: count,
    createsPerSec,
    createSeconds: round(createSeconds, 1),
    pageMs: pages,
    filteredPageMs: filtered,
    controlPlaneRssMb: rssMb,
  }
  r.row(`${count} tenants: creates/s (API, ${CREATE_CONCURRENCY} at a time)`, createsPerSec)
  r.row(`  GET /v1/tenants?limit=${PAGE} p50 / p99 ms (cursor walk)`, `${pages.p50} / ${pages.p99}`)
  r.row(`  same with state= or label. filter, p50 / p99 ms`, `${filtered.p50} / ${filtered.p99}`)
  r.row(`  control plane RSS at rest, MB`, rssMb)
}

async function main(): Promise<ScenarioResult[]> {
  process.stderr.write(
    `litecell bench:fleet on ${machine.cpuCount} × ${machine.cpuModel}, load ${machine.loadAverage.join(' / ')}\n`,
  )
  const maxWorkers = Number(values['max-workers'])
  const results: ScenarioResult[] = []
  const otherModes = values.active !== undefined || values.timers !== undefined
  const registryTenants = Number(values.tenants ?? (otherModes ? 0 : 10_000))
  if (registryTenants > 0 || values.burst) {
    results.push(...(await registryAndBurst(registryTenants, maxWorkers)))
  }
  if (values.active !== undefined) {
    const count = Number(values.active)
    results.push(
      await withServer(
        { LITECELL_MAX_WORKERS: String(count), LITECELL_IDLE_MS: String(ACTIVE_IDLE_MS) },
        (server) =>
          runScenario(
            `${count} tenants active at once`,
            (r) =>
              benchActiveTenants(
                server,
                {
                  tenantIds: Array.from(
                    { length: count },
                    (_, n) => `active-${String(n).padStart(3, '0')}`,
                  ),
                  passes: Number(values.passes),
                },
                r,
              ),
            keepLogsOnFailure(server, 'active'),
          ),
      ),
    )
  }
  if (values.timers !== undefined) {
    const count = Number(values.timers)
    results.push(
      await withServer({ LITECELL_MAX_WORKERS: String(maxWorkers) }, (server) =>
        runScenario(
          `Durable timers of ${count} hibernated tenants`,
          (r) =>
            benchTimerLateness(
              server,
              {
                tenantIds: Array.from(
                  { length: count },
                  (_, n) => `timer-${String(n).padStart(5, '0')}`,
                ),
                spreadS: Number(values['spread-s']),
                maxWorkers,
                seedConcurrency: Number(values['seed-concurrency']),
                ...(values['lead-s'] === undefined ? {} : { leadS: Number(values['lead-s']) }),
              },
              r,
            ),
          keepLogsOnFailure(server, 'timers'),
        ),
      ),
    )
  }
  return results
}

/** Copies the server's logs aside (bench-results/failed-logs) when the scenario fails. */
function keepLogsOnFailure(server: BenchServer, label: string) {
  return { onFailure: () => progress(`logs kept in ${server.keepLogs(label)}`) }
}

/** Runs `body` against a server of its own, stopped afterwards whatever happens. */
async function withServer(
  env: Record<string, string>,
  body: (server: BenchServer) => Promise<ScenarioResult>,
): Promise<ScenarioResult> {
  const server = await BenchServer.start({ LITECELL_WAKE_WAIT_MS: values['wake-wait-ms'], ...env })
  try {
    return await body(server)
  } finally {
    const stopped = await server.stop()
    progress(`server stopped: exit ${stopped.exitCode}, orphans ${stopped.orphans.length}`)
  }
}

async function registryAndBurst(
  registryTenants: number,
  maxWorkers: number,
): Promise<ScenarioResult[]> {
  const server = await BenchServer.start({
    LITECELL_MAX_WORKERS: String(maxWorkers),
    LITECELL_WAKE_WAIT_MS: values['wake-wait-ms'],
  })
  const results: ScenarioResult[] = []
  try {
    if (registryTenants > 0) {
      results.push(
        await runScenario('Registry at scale', (r) =>
          benchRegistryScale(server, registryTenants, r),
        ),
      )
    }
    if (values.burst) {
      results.push(
        await runScenario('Fleet burst', async (r) => {
          const ids = Array.from(
            { length: Number(values['burst-tenants']) },
            (_, n) => `burst-${String(n).padStart(3, '0')}`,
          )
          await createTenants(server, ids)
          await benchFleetBurst(
            server,
            { tenantIds: ids, runsPerTenant: Number(values.runs), maxWorkers, repeats: 1 },
            r,
          )
          const figures = r.figures.burst as { median: { overCapacity429: number } }
          r.check(
            'no 429 reached the client',
            figures.median.overCapacity429 === 0,
            `${figures.median.overCapacity429} × 429`,
          )
        }, keepLogsOnFailure(server, 'burst')),
      )
    }
  } finally {
    const stopped = await server.stop()
    progress(`server stopped: exit ${stopped.exitCode}, orphans ${stopped.orphans.length}`)
  }
  return results
}

const scenarios = await main()
const report: BenchReport = {
  mode: 'full',
  machine,
  seconds: round((performance.now() - startedMs) / 1000, 1),
  ok: scenarios.every((s) => s.status !== 'failed'),
  scenarios,
}
writeReport(RESULTS_PATH, report)
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
process.exit(report.ok ? 0 : 1)
