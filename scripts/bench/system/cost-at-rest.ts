import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { BenchServer } from './bench-server.js'
import { dirBytes, s3BytesByTenant } from './disk-usage.js'
import { localTenantBytes } from './sized-tenant.js'
import { hibernateAll } from './fleet.js'
import { isEmbeddedS3Server, rssBytes, treeOf, type ProcessInfo } from '@litecell/testkit'
import { scrapeFleet } from './prometheus.js'
import { progress, type ScenarioRecorder } from './scenario.js'
import { delay, median, round, toMb } from './stats.js'

/** Target RSS of the control plane with every tenant hibernated (issue 6). */
const CONTROL_PLANE_TARGET_MB = 100
/** Longest the process tree may take to settle after the last hibernation. */
const SETTLE_TIMEOUT_MS = 30_000

type ProcessKind =
  | 'control plane'
  | 'registry Litestream'
  | 'embedded S3 server'
  | 'standby worker'
  | 'tenant Litestream'
  | 'tsx esbuild service'
  | 'other'

/**
 * Scenario 6: every tenant hibernated. Bytes in S3 per tenant (its replica under
 * `<dataDir>/s3/`) and on local disk (its `tenants/<id>` folder, which must be empty); then the
 * server's processes by kind, with RSS. The target is no tenant worker or tenant Litestream
 * left, and a control plane of at most 100 MB RSS. Pre-started standby workers
 * (LITECELL_STANDBY_WORKERS) hold no tenant and are listed on their own.
 */
export async function benchCostAtRest(server: BenchServer, tenantIds: readonly string[], recorder: ScenarioRecorder): Promise<void> {
  await hibernateAll(server)
  const metrics = await scrapeFleet(server.admin)
  recorder.check('no active worker with every tenant hibernated', metrics.activeWorkers === 0, `${metrics.activeWorkers} active`)
  const processes = await settledTree(server)

  const s3 = s3BytesByTenant(server.dataDir)
  const replicaBytes = tenantIds.map((id) => s3.tenants.get(id) ?? 0)
  // A hibernated tenant keeps one verified copy of its file for its next wake here (issue 12);
  // anything else in its folder is a live database that hibernation failed to remove.
  const tenantDir = (id: string) => join(server.dataDir, 'tenants', id)
  const copyBytes = tenantIds.map((id) => dirBytes(join(tenantDir(id), 'hibernated')))
  const localBytes = tenantIds.map((id) => localTenantBytes(server, id))
  recorder.check('every hibernated tenant has a replica in S3', replicaBytes.every((bytes) => bytes > 0))
  recorder.check('no hibernated tenant keeps local files but its verified copy', localBytes.every((bytes) => bytes === 0), `${localBytes.filter((b) => b > 0).length} with files`)
  // Every tenant's folder (those of other scenarios too, with their kept copies) is not the control plane's.
  const controlPlaneDiskBytes = dirBytes(server.dataDir) - dirBytes(join(server.dataDir, 's3')) - dirBytes(join(server.dataDir, 'tenants'))

  const byKind = new Map<ProcessKind, { count: number; rssBytes: number }>()
  for (const info of processes) {
    const kind = kindOf(info, server.pid, processes)
    const entry = byKind.get(kind) ?? { count: 0, rssBytes: 0 }
    entry.count += 1
    entry.rssBytes += rssBytes(info.pid)
    byKind.set(kind, entry)
  }
  const controlPlaneMb = toMb(byKind.get('control plane')?.rssBytes ?? 0)
  const tenantLitestreams = byKind.get('tenant Litestream')?.count ?? 0
  recorder.check('no tenant Litestream left with every tenant hibernated', tenantLitestreams === 0, `${tenantLitestreams} found`)
  const others = byKind.get('other')?.count ?? 0
  const otherNames = processes.filter((info) => kindOf(info, server.pid, processes) === 'other').map((info) => `${info.pid} ${info.command}`)
  recorder.check('no worker left but the standby pool', others === 0, `${others} other processes: ${otherNames.join(', ')}`)
  const processFigures = Object.fromEntries([...byKind].map(([kind, e]) => [kind, { count: e.count, rssMb: toMb(e.rssBytes) }]))
  const totalMb = toMb([...byKind.values()].reduce((sum, e) => sum + e.rssBytes, 0))
  recorder.figures.atRest = {
    tenants: tenantIds.length,
    s3BytesPerTenant: { median: median(replicaBytes), mean: round(replicaBytes.reduce((a, b) => a + b, 0) / (replicaBytes.length || 1), 0), max: Math.max(...replicaBytes) },
    s3OtherBytes: s3.other,
    localBytesPerTenant: { median: median(localBytes), max: Math.max(...localBytes) },
    localCopyBytesPerTenant: { median: median(copyBytes), max: Math.max(...copyBytes) },
    controlPlaneDiskBytes,
    processes: processFigures,
    totalRssMb: totalMb,
    activeWorkers: metrics.activeWorkers,
    controlPlaneRssMb: controlPlaneMb,
    controlPlaneTargetMb: CONTROL_PLANE_TARGET_MB,
    meetsControlPlaneTarget: controlPlaneMb <= CONTROL_PLANE_TARGET_MB,
  }
  progress(`at rest: ${JSON.stringify(processFigures)}`)
  recorder.row(`S3 bytes per hibernated tenant, median (KB)`, round(median(replicaBytes) / 1024, 1))
  recorder.row(`local disk per hibernated tenant, bytes (+ its kept copy, KB)`, `${median(localBytes)} (+ ${round(median(copyBytes) / 1024, 1)})`)
  recorder.row(`  control plane's own local disk (registry, logs), MB`, toMb(controlPlaneDiskBytes))
  recorder.row(`active workers with ${tenantIds.length} tenants hibernated`, metrics.activeWorkers)
  for (const [kind, e] of byKind) recorder.row(`  ${kind} processes / RSS MB`, `${e.count} / ${toMb(e.rssBytes)}`)
  recorder.row(`control plane RSS, MB (target ≤ ${CONTROL_PLANE_TARGET_MB})`, controlPlaneMb)
  recorder.row(`whole system RSS at rest, MB`, totalMb)
}

/** The server's tree once it stopped changing (final syncs of the last Litestreams done). */
async function settledTree(server: BenchServer): Promise<ProcessInfo[]> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS
  let previous = ''
  for (;;) {
    const processes = treeOf(server.pid)
    const key = processes.map((info) => `${info.pid}:${info.startTicks}`).sort().join(',')
    const hasTenantLitestream = processes.some((info) => kindOf(info, server.pid, processes) === 'tenant Litestream')
    if ((key === previous && !hasTenantLitestream) || Date.now() > deadline) return processes
    previous = key
    await delay(500)
  }
}

function kindOf(info: ProcessInfo, serverPid: number, tree: readonly ProcessInfo[]): ProcessKind {
  if (info.pid === serverPid) return 'control plane'
  // tsx compiles TypeScript through an esbuild service process, a child of each Node process.
  if (info.command === 'esbuild') return 'tsx esbuild service'
  // A Litestream's helpers (the replica package runs a `sh` parent-watchdog under it) count as it.
  const litestream = litestreamAncestorOrSelf(info, tree)
  if (litestream) return litestream.ppid === serverPid ? 'registry Litestream' : 'tenant Litestream'
  // The local stand-in for S3 (a real deployment has none).
  if (isEmbeddedS3Server(info.pid)) return 'embedded S3 server'
  if (isStandby(info.pid) && !hasLitestream(info.pid)) return 'standby worker'
  return 'other'
}

function litestreamAncestorOrSelf(info: ProcessInfo, tree: readonly ProcessInfo[]): ProcessInfo | undefined {
  for (let current: ProcessInfo | undefined = info; current; current = tree.find((p) => p.pid === current!.ppid)) {
    if (current.command === 'litestream') return current
  }
  return undefined
}

/** A standby has not started a Litestream yet; an assigned worker has. */
function hasLitestream(pid: number): boolean {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)
    return children.some((child) => readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'litestream')
  } catch {
    return false
  }
}

/** A worker process started as a standby (LITECELL_STANDBY=1 stays in its environ after assignment too). */
function isStandby(pid: number): boolean {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
    return environ.includes('LITECELL_STANDBY=1')
  } catch {
    return false
  }
}
