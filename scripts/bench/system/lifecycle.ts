import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BenchServer } from './bench-server.js'
import { coldWake } from './cold-wake.js'
import { s3BytesByTenant } from './disk-usage.js'
import { hibernateVerified } from './hibernate.js'
import { fleetDelta, scrapeFleet } from './prometheus.js'
import { progress, type ScenarioRecorder } from './scenario.js'
import { createSizedTenant, fillRows } from './sized-tenant.js'
import { delay, round, summarize, toMb } from './stats.js'

/** One tenant size of the cold wake and hibernate scenarios. */
export interface LifecycleSize {
  readonly label: string
  readonly bytes: number
  /** Hibernate → cold wake cycles. */
  readonly cycles: number
}

/** Pause between a hibernation and the next wake: a cold wake comes long after, not during, teardown. */
const SETTLE_MS = 300

/**
 * Scenarios 3 and 4: for each size, a tenant is filled, then cycled `cycles` times through a
 * verified hibernation (timed, scenario 4) and a cold wake by its first run (timed, scenario
 * 3). Its rows are counted after the last wake: nothing may be lost on the way.
 */
export async function benchLifecycle(server: BenchServer, sizes: readonly LifecycleSize[], recorder: ScenarioRecorder): Promise<void> {
  const figures: Record<string, unknown> = {}
  recorder.figures.sizes = figures
  for (const size of sizes) {
    const id = `bench-size-${size.label.toLowerCase().replace(/[^a-z0-9]+/g, '')}`
    const fillStartedMs = performance.now()
    const tenant = await createSizedTenant(server, id, size.bytes)
    progress(`${size.label}: filled to ${toMb(tenant.databaseBytes)} MB (${tenant.rows} rows) in ${round((performance.now() - fillStartedMs) / 1000, 1)} s`)
    const metricsBefore = await scrapeFleet(server.admin)
    const hibernateMs: number[] = []
    const wakes = []
    for (let cycle = 0; cycle < size.cycles; cycle++) {
      hibernateMs.push(await hibernateVerified(server, id))
      await delay(SETTLE_MS)
      wakes.push(await coldWake(server, id, cycle))
    }
    const server_ = fleetDelta(metricsBefore, await scrapeFleet(server.admin))
    const phases = workerPhases(server, id)
    const rowsAfter = await fillRows(server, id)
    recorder.check(`${size.label}: all ${tenant.rows} rows there after ${size.cycles} hibernate/wake cycles`, rowsAfter === tenant.rows, `${rowsAfter} rows`)
    recorder.check(`${size.label}: no wake or hibernation failed`, server_.wakes.error === 0 && server_.hibernations.error === 0 && server_.crashes === 0, JSON.stringify(server_))
    // Hibernated once more (untimed), so the replica's size is final and the slot is free.
    await hibernateVerified(server, id)
    const replicaBytes = s3BytesByTenant(server.dataDir).tenants.get(id) ?? 0
    const wake = summarize(wakes.map((w) => w.acceptedMs), 1)
    const firstResult = summarize(wakes.map((w) => w.completedMs), 1)
    const hibernate = summarize(hibernateMs, 1)
    figures[size.label] = {
      tenant: id,
      databaseBytes: tenant.databaseBytes,
      replicaBytes,
      cycles: size.cycles,
      coldWakeToAcceptedMs: wake,
      coldWakeToFirstResultMs: firstResult,
      hibernateVerifiedMs: hibernate,
      controlPlaneTimings: server_,
      workerPhases: phases,
      samples: { wakeAcceptedMs: wakes.map((w) => round(w.acceptedMs, 1)), hibernateMs: hibernateMs.map((ms) => round(ms, 1)) },
    }
    progress(`${size.label}: wake p50 ${wake.p50} / p99 ${wake.p99} ms; hibernate p50 ${hibernate.p50} / p99 ${hibernate.p99} ms`)
    recorder.row(`cold wake ${size.label} (${toMb(tenant.databaseBytes)} MB db) → first run accepted, p50 / p99 ms (n=${size.cycles})`, `${wake.p50} / ${wake.p99}`)
    recorder.row(`  … → first run's result, p50 ms`, firstResult.p50)
    recorder.row(`  worker phases p50 ms: restore / open / replicate / ready (sources)`, `${phases.restoreMs.p50} / ${phases.openMs.p50} / ${phases.replicateMs.p50} / ${phases.readyMs.p50} (${Object.entries(phases.sources).map(([s, n]) => `${s} ×${n}`).join(', ')})`)
    recorder.row(`hibernate ${size.label}, verified teardown, p50 / p99 ms (n=${size.cycles})`, `${hibernate.p50} / ${hibernate.p99}`)
    recorder.row(`  replica in S3 after the cycles, MB`, toMb(replicaBytes))
  }
}

/**
 * A wake phase by phase, from the tenant's worker log (`worker ready`: where the file came from,
 * restoreMs, openMs, ms from the assignment to ready; replicateMs there or in `replicating`),
 * over every wake of the tenant.
 */
function workerPhases(server: BenchServer, id: string) {
  const path = join(server.dataDir, 'logs', `${id}.log`)
  const lines = (existsSync(path) ? readFileSync(path, 'utf8').split('\n') : [])
    .filter((line) => line.includes('"worker ready"') || line.includes('"replicating"'))
    .map((line) => JSON.parse(line) as { msg: string; source: string; restoreMs: number; openMs: number; replicateMs?: number; ms: number })
  const ready = lines.filter((line) => line.msg === 'worker ready')
  // Litestream's start: in the ready line when the wake waited for it, else in its own line.
  const replicateMs = lines.flatMap((line) => (typeof line.replicateMs === 'number' ? [line.replicateMs] : []))
  const sources: Record<string, number> = {}
  for (const line of ready) sources[line.source] = (sources[line.source] ?? 0) + 1
  return {
    wakes: ready.length,
    sources,
    restoreMs: summarize(ready.map((line) => line.restoreMs), 1),
    openMs: summarize(ready.map((line) => line.openMs), 1),
    replicateMs: summarize(replicateMs, 1),
    readyMs: summarize(ready.map((line) => line.ms), 1),
  }
}
