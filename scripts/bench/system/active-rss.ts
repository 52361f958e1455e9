import type { BenchServer } from './bench-server.js'
import { forEachLimit } from './fleet.js'
import { listProcesses, pssBytes, rssBytes } from '@litecell/testkit'
import { submitBatch, waitForRunsEnded } from './run-client.js'
import { progress, type ScenarioRecorder } from './scenario.js'
import { delay, median, round, toMb } from './stats.js'

/** Pause after the runs, so each worker's memory reflects a settled, active tenant. */
const SETTLE_MS = 1_000

/**
 * RSS per active tenant (issue 4): `tenantIds` (hibernated) are woken by 20 3-step runs each,
 * then each tenant's worker process group is measured: the worker (Node, engine, tenant API)
 * plus its Litestream. Medians across the tenants.
 */
export async function benchActiveRss(server: BenchServer, tenantIds: readonly string[], recorder: ScenarioRecorder): Promise<void> {
  await forEachLimit(tenantIds, tenantIds.length, async (id) => {
    const runs = Array.from({ length: 20 }, (_, n) => ({ workflow: 'three-steps', input: { n } }))
    const rows = await waitForRunsEnded(server.admin, id, await submitBatch(server.admin, id, runs), 120_000)
    if (rows.some((row) => row.status !== 'succeeded')) throw new Error(`active RSS: runs of ${id} did not all succeed`)
  })
  await delay(SETTLE_MS)
  const processes = listProcesses()
  const perTenant = []
  for (const id of tenantIds) {
    const tenant = await server.admin.getTenant(id)
    const pid = tenant.worker?.pid as number | undefined
    if (tenant.state !== 'active' || !pid) throw new Error(`active RSS: ${id} is ${tenant.state} with no worker`)
    // The worker's process group: the worker, its Litestream, and helpers (tsx's esbuild service,
    // the `sh` watchdog the replica package runs under Litestream).
    const group = processes.filter((info) => info.pgid === pid)
    const sum = (members: typeof group) => members.reduce((total, info) => total + rssBytes(info.pid), 0)
    const pss = group.reduce((total, info) => total + pssBytes(info.pid), 0)
    const litestream = group.filter((info) => info.command === 'litestream')
    const helpers = group.filter((info) => info.pid !== pid && info.command !== 'litestream')
    recorder.check(`active RSS: ${id} has one Litestream in its worker's group`, litestream.length === 1, `${litestream.length} found`)
    const workerBytes = rssBytes(pid)
    const litestreamBytes = sum(litestream)
    const helperBytes = sum(helpers)
    perTenant.push({
      id,
      workerMb: toMb(workerBytes),
      litestreamMb: toMb(litestreamBytes),
      helpers: helpers.map((info) => info.command),
      helpersMb: toMb(helperBytes),
      totalMb: toMb(workerBytes + litestreamBytes + helperBytes),
      pssMb: toMb(pss),
    })
  }
  const summary = {
    totalMb: round(median(perTenant.map((t) => t.totalMb)), 1),
    workerMb: round(median(perTenant.map((t) => t.workerMb)), 1),
    litestreamMb: round(median(perTenant.map((t) => t.litestreamMb)), 1),
    helpersMb: round(median(perTenant.map((t) => t.helpersMb)), 1),
    pssMb: round(median(perTenant.map((t) => t.pssMb)), 1),
  }
  recorder.figures.activeTenantRss = { tenants: tenantIds.length, median: summary, perTenant }
  const helpers = [...new Set(perTenant.flatMap((t) => t.helpers))].join(', ') || 'none'
  progress(`RSS per active tenant: ${summary.totalMb} MB (worker ${summary.workerMb} + Litestream ${summary.litestreamMb} + helpers ${summary.helpersMb}: ${helpers}), median of ${tenantIds.length}`)
  recorder.row(
    `RSS per active tenant, median of ${tenantIds.length}, MB: worker + Litestream + helpers (${helpers})`,
    `${summary.totalMb} = ${summary.workerMb} + ${summary.litestreamMb} + ${summary.helpersMb}`,
  )
  // RSS counts the Node binary and native addons in full in every worker; PSS shares them out.
  recorder.row(`  … the same as PSS (shared pages divided among the processes that map them), MB`, summary.pssMb)
}
