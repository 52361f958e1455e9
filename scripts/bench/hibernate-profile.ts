/**
 * `pnpm bench:hibernate`: where a hibernation right after writes spends its time (issue 12),
 * through a real `litecell serve`. For each size a tenant is filled, hibernated once, then
 * cycled: cold wake by a 3-step run (from the kept copy; Litestream starts beside it), and at
 * once a verified hibernation, timed by the client. The worker's `hibernated` log line gives
 * the phases (engine close, wait for Litestream's start, the verified stop by its own phases,
 * retiring the folder and keeping the copy, the report). Prints JSON; medians per size.
 * `BENCH_HIBERNATE_CYCLES` (default 7) and `BENCH_HIBERNATE_SIZES_MB` (default `1,50`).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { BenchServer } from './system/bench-server.js'
import { coldWake } from './system/cold-wake.js'
import { hibernateVerified } from './system/hibernate.js'
import { dirBytes } from './system/disk-usage.js'
import { createSizedTenant, fillRows } from './system/sized-tenant.js'
import { delay, median, round } from './system/stats.js'

const MB = 1024 * 1024
const CYCLES = Number(process.env.BENCH_HIBERNATE_CYCLES ?? 7)
const SIZES_MB = (process.env.BENCH_HIBERNATE_SIZES_MB ?? '1,50').split(',').map(Number)
/** The first wake's run, then the hibernation at once: "right after writes". */
const SETTLE_MS = 300

interface HibernatedLine {
  readonly msg: string
  readonly ms: number
  readonly stop?: Record<string, number>
  readonly [phase: string]: unknown
}

function hibernatedLines(server: BenchServer, id: string): HibernatedLine[] {
  const path = join(server.dataDir, 'logs', `${id}.log`)
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"msg":"hibernated"'))
    .map((line) => JSON.parse(line) as HibernatedLine)
}

/** Litestream generations in the tenant's replica (the embedded S3 server's folder). */
function generationsOf(server: BenchServer, id: string): number {
  const found = new Set<string>()
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const path = join(dir, entry.name)
      const match = /\/generations\/([0-9a-f]{16})$/.exec(path)
      if (match && path.includes(`/${id}/`)) found.add(match[1]!)
      else walk(path)
    }
  }
  walk(join(server.dataDir, 's3'))
  return found.size
}

/** Per-key medians of flat number records. */
function medians(records: readonly Record<string, unknown>[]): Record<string, number> {
  const keys = new Set(records.flatMap((record) => Object.keys(record)))
  const result: Record<string, number> = {}
  for (const key of keys) {
    if (!/ms$/i.test(key)) continue
    const values = records.flatMap((record) => (typeof record[key] === 'number' ? [record[key]] : []))
    if (values.length > 0) result[key] = round(median(values), 1)
  }
  return result
}

async function main(): Promise<void> {
  const load = () => os.loadavg().map((value) => round(value, 2))
  const report: Record<string, unknown> = { loadAtStart: load(), cycles: CYCLES }
  const server = await BenchServer.start()
  try {
    for (const sizeMb of SIZES_MB) {
      const id = `hib-${sizeMb}mb`
      const tenant = await createSizedTenant(server, id, sizeMb * MB)
      await hibernateVerified(server, id)
      const clientMs: number[] = []
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        await delay(SETTLE_MS)
        await coldWake(server, id, cycle)
        clientMs.push(await hibernateVerified(server, id))
        process.stderr.write(`${sizeMb} MB cycle ${cycle}: ${round(clientMs.at(-1)!, 0)} ms\n`)
      }
      const rows = await fillRows(server, id)
      if (rows !== tenant.rows) throw new Error(`${id}: ${rows} rows after the cycles, ${tenant.rows} before`)
      await hibernateVerified(server, id)
      // The first line is the hibernation after the fill (not right after a wake).
      const lines = hibernatedLines(server, id).slice(1, CYCLES + 1)
      report[`${sizeMb}MB`] = {
        generations: generationsOf(server, id),
        keptCopyBytes: dirBytes(join(server.dataDir, 'tenants', id, 'hibernated')),
        clientMs: { p50: round(median(clientMs), 0), samples: clientMs.map((ms) => round(ms, 0)) },
        workerMedians: medians(lines.map(({ stop: _stop, ...rest }) => rest)),
        stopMedians: medians(lines.map((line) => line.stop ?? {})),
        lines: lines.map((line) => ({ ...medians([line]), stop: line.stop })),
      }
    }
  } finally {
    report.loadAtEnd = load()
    await server.stop()
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
}

await main()
