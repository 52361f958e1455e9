import type { BenchServer } from './bench-server.js'
import { createBenchTenant, forEachLimit } from './fleet.js'
import { FiredTimerCollector } from './fired-timer-collector.js'
import { fleetDelta, scrapeFleet } from './prometheus.js'
import { submitBatch, withRetry } from './run-client.js'
import { progress, type ScenarioRecorder } from './scenario.js'
import { delay, round, summarize, toMb } from './stats.js'

/** Sizes of the timer-lateness scenario. */
export interface TimerLatenessOptions {
  readonly tenantIds: readonly string[]
  /** The timers are due evenly over this many seconds from a common start. */
  readonly spreadS: number
  /** LITECELL_MAX_WORKERS of the server (for the cap check). */
  readonly maxWorkers: number
  /** Tenants seeded at once. */
  readonly seedConcurrency: number
  /** Seconds from the end of the pilot to the first due time; estimated from the pilot if absent. */
  readonly leadS?: number
}

/** Standby workers the server keeps (LITECELL_STANDBY_WORKERS, left at its default). */
const STANDBY_WORKERS = 1
/** Tenants created at once. */
const CREATE_CONCURRENCY = 8
/** Margin on the seeding time the pilot predicts, so that every tenant is hibernated before it is due. */
const LEAD_FACTOR = 1.5
const LEAD_EXTRA_S = 20
/** A pilot tenant's timer is due long after the bench ends: it only measures what a seed costs. */
const PILOT_DUE_IN_MS = 24 * 3_600_000
/** How far the registry's `nextWakeAt` may sit from the due time asked for. */
const NEXT_WAKE_TOLERANCE_MS = 1_000
/** Tenants whose run is read back over the API (waking them) to cross-check the reports. */
const CROSS_CHECKS = 3

/** One seeded tenant: when its timer is due and when its hibernation answered. */
interface Seeded {
  readonly id: string
  readonly runId: string
  readonly dueAt: number
  readonly hibernatedAt: number
  readonly nextWakeAt: number
}

/**
 * Issue 12, "hibernated tenants each with a durable timer, due spread over S seconds": every
 * tenant of `tenantIds` gets one run of the bench app's `timer` workflow, asleep until its due
 * time (spread evenly over `spreadS` seconds from a common start), and is hibernated; then the
 * wake scheduler alone (no client request) must wake each one when its timer is due. The run
 * records the wall clock at which it resumed and POSTs it to the bench
 * ({@link FiredTimerCollector}), so nothing wakes a tenant to read it. Lateness = resumed −
 * due. Checks: every timer fired, every tenant was hibernated before it was due, the workers
 * never exceeded the cap.
 *
 * What seeding costs, honestly: a tenant's timer lives in its own SQLite file, and a
 * hibernated tenant has no process, so writing the timer takes one wake and one verified
 * hibernation per tenant; no API writes a run into a hibernated tenant's file, and a fork
 * wakes its copy too. The `debounce` start option would give a delayed start as well, but it
 * still needs the wake. The seeding rate is reported. A pilot of `seedConcurrency` extra
 * tenants (timers a day away) measures it first, to place the common start after the seeding.
 */
export async function benchTimerLateness(
  server: BenchServer,
  options: TimerLatenessOptions,
  r: ScenarioRecorder,
): Promise<void> {
  const ids = options.tenantIds
  const count = ids.length
  const collector = await FiredTimerCollector.start()
  try {
    const pilotIds = Array.from(
      { length: Math.min(options.seedConcurrency, count) },
      (_, n) => `timer-pilot-${String(n).padStart(2, '0')}`,
    )
    const createdFrom = performance.now()
    await forEachLimit([...pilotIds, ...ids], CREATE_CONCURRENCY, (id) =>
      createBenchTenant(server, id),
    )
    progress(
      `${count} + ${pilotIds.length} pilot tenants created in ${round((performance.now() - createdFrom) / 1000, 1)} s`,
    )

    const pilotFrom = performance.now()
    await forEachLimit(pilotIds, options.seedConcurrency, async (id) => {
      await seedTimer(server, id, Date.now() + PILOT_DUE_IN_MS, collector.url)
    })
    const pilotSeconds = (performance.now() - pilotFrom) / 1000
    const rounds = Math.ceil(count / options.seedConcurrency)
    const leadS = options.leadS ?? Math.ceil(rounds * pilotSeconds * LEAD_FACTOR + LEAD_EXTRA_S)
    const startAt = Date.now() + leadS * 1000
    const dueAt = (n: number) => Math.round(startAt + ((n + 0.5) / count) * options.spreadS * 1000)
    progress(
      `pilot: ${pilotIds.length} seeds at once in ${round(pilotSeconds, 1)} s; first timer due in ${leadS} s`,
    )

    const seeded: Seeded[] = []
    const seedFrom = performance.now()
    let lastProgress = Date.now()
    await forEachLimit(
      ids.map((id, n) => ({ id, due: dueAt(n) })),
      options.seedConcurrency,
      async ({ id, due }) => {
        seeded.push(await seedTimer(server, id, due, collector.url))
        if (Date.now() - lastProgress > 10_000) {
          lastProgress = Date.now()
          progress(`seeded ${seeded.length} / ${count}`)
        }
      },
    )
    const seedSeconds = (performance.now() - seedFrom) / 1000
    const seedsPerSec = round(count / seedSeconds, 2)
    progress(`${count} timers seeded in ${round(seedSeconds, 1)} s (${seedsPerSec}/s)`)
    const lateSeeds = seeded.filter((s) => s.hibernatedAt > s.dueAt)
    r.check(
      'every tenant was hibernated before its timer was due',
      lateSeeds.length === 0,
      `${lateSeeds.length} hibernated after their due time (raise --lead-s)`,
    )
    const offTimers = seeded.filter(
      (s) => Math.abs(s.nextWakeAt - s.dueAt) > NEXT_WAKE_TOLERANCE_MS,
    )
    r.check(
      "every hibernated tenant's nextWakeAt is its timer's due time",
      offTimers.length === 0,
      offTimers
        .slice(0, 3)
        .map((s) => `${s.id}: ${s.nextWakeAt - s.dueAt} ms off`)
        .join(', '),
    )

    const before = await scrapeFleet(server.admin)
    server.sampler.resetPeak()
    const lastDue = startAt + options.spreadS * 1000
    // Generous: on 2 shared cores a wake and a hibernation take over a CPU-second each.
    const deadline = lastDue + Math.max(300_000, count * 2_000)
    const ticker = setInterval(() => {
      const due = seeded.filter((s) => s.dueAt <= Date.now()).length
      progress(`timers due ${due}, fired ${collector.fired.size} / ${count}`)
    }, 15_000)
    try {
      await collector.waitFor(count, deadline)
    } finally {
      clearInterval(ticker)
    }
    const allFiredAt = Date.now()
    server.sampler.sample()
    const delta = fleetDelta(before, await scrapeFleet(server.admin))

    const bySeed = new Map(seeded.map((s) => [s.id, s]))
    const lateness: number[] = []
    let mismatched = 0
    for (const fired of collector.fired.values()) {
      const seed = bySeed.get(fired.tenant)
      if (!seed) continue // a pilot's timer, due in a day: never expected here
      if (fired.dueAt !== seed.dueAt) mismatched += 1
      lateness.push(fired.wokeAt - seed.dueAt)
    }
    const firedCount = lateness.length
    r.check(
      `every timer fired (${count})`,
      firedCount === count && mismatched === 0,
      `${firedCount} fired, ${mismatched} reported another due time`,
    )
    const early = lateness.filter((ms) => ms < 0).length
    r.check('no timer fired before it was due', early === 0, `${early} early`)
    const cap = options.maxWorkers + STANDBY_WORKERS
    r.check(
      `never more than ${options.maxWorkers} workers (+ ${STANDBY_WORKERS} standby)`,
      server.sampler.peakWorkers <= cap,
      `${server.sampler.peakWorkers} at most`,
    )
    r.check(
      'no wake or hibernation failed, no worker crashed',
      delta.wakes.error === 0 && delta.hibernations.error === 0 && delta.crashes === 0,
      JSON.stringify(delta),
    )

    // Cross-check a few reports against the runs themselves (this wakes those tenants).
    const sample = seeded.slice(0, CROSS_CHECKS)
    let agreed = 0
    for (const seed of sample) {
      const result = await withRetry(() =>
        server.admin.runResult(seed.id, seed.runId, { waitMs: 10_000 }),
      )
      const output = result.output as { wokeAt?: number } | null
      if (
        result.status === 'succeeded' &&
        output?.wokeAt === collector.fired.get(seed.id)?.wokeAt
      ) {
        agreed += 1
      }
    }
    r.check(
      `the runs of ${sample.length} tenants read back agree with their reports`,
      agreed === sample.length,
      `${agreed} agree`,
    )

    const late = summarize(lateness, 0)
    const target = late.p99 <= 5_000 ? 'met' : 'missed'
    r.figures.timers = {
      tenants: count,
      spreadS: options.spreadS,
      maxWorkers: options.maxWorkers,
      fired: firedCount,
      duplicateReports: collector.duplicates,
      latenessMs: late,
      lastFiredAfterLastDueS: round((allFiredAt - lastDue) / 1000, 1),
      seed: {
        concurrency: options.seedConcurrency,
        seconds: round(seedSeconds, 1),
        perSec: seedsPerSec,
        pilotSeconds: round(pilotSeconds, 1),
        leadS,
      },
      wakes: delta.wakes.ok,
      hibernations: delta.hibernations.ok,
      wakeMeanMs: delta.wakes.okMeanMs,
      hibernateMeanMs: delta.hibernations.okMeanMs,
      peakWorkers: server.sampler.peakWorkers,
      peakTreeRssMb: toMb(server.sampler.peakBytes),
      target: { p99Ms: 5_000, result: target },
    }
    r.row(
      `${count} hibernated tenants, a durable timer each due over ${options.spreadS} s, max ${options.maxWorkers} workers`,
      `${firedCount} fired`,
    )
    r.row(
      '  lateness (resumed − due) p50 / p99 / max ms',
      `${late.p50} / ${late.p99} / ${late.max} (p99 ≤ 5 s: ${target})`,
    )
    r.row(
      '  wakes / hibernations while firing, mean ms',
      `${delta.wakes.ok} / ${delta.hibernations.ok}, ${delta.wakes.okMeanMs} / ${delta.hibernations.okMeanMs}`,
    )
    r.row(
      '  most workers at once; peak RSS of the tree, MB',
      `${server.sampler.peakWorkers}; ${toMb(server.sampler.peakBytes)}`,
    )
    r.row(
      `  seeding (a wake + a verified hibernation each, ${options.seedConcurrency} at once), timers/s`,
      seedsPerSec,
    )
  } finally {
    await collector.stop()
  }
}

/**
 * Gives a hibernated tenant one `timer` run due at `dueAt`: the start wakes it, the run goes
 * to sleep, and a verified hibernation follows (the run must be `sleeping` first: one left
 * pending would make the tenant due at once).
 */
async function seedTimer(
  server: BenchServer,
  id: string,
  dueAt: number,
  reportUrl: string,
): Promise<Seeded> {
  const [runId] = await submitBatch(server.admin, id, [
    { workflow: 'timer', input: { dueAt, tenant: id, reportUrl } },
  ])
  const asleepBy = Date.now() + 60_000
  for (;;) {
    const run = await withRetry(() => server.admin.getRun(id, runId!))
    if (run.status === 'sleeping') break
    if (run.status !== 'pending' && run.status !== 'running') {
      throw new Error(`seed ${id}: timer run is ${run.status}`)
    }
    if (Date.now() > asleepBy) throw new Error(`seed ${id}: timer run still ${run.status}`)
    await delay(50)
  }
  const view = await withRetry(() => server.admin.hibernateTenant(id))
  const hibernatedAt = Date.now()
  if (view.state !== 'hibernated' || view.nextWakeAt === null) {
    throw new Error(
      `seed ${id}: after hibernating, ${view.state} with nextWakeAt ${view.nextWakeAt}`,
    )
  }
  return { id, runId: runId!, dueAt, hibernatedAt, nextWakeAt: Date.parse(view.nextWakeAt) }
}
