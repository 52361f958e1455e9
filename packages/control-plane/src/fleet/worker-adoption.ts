import {
  EXIT_HIBERNATED,
  EXIT_LEASE_LOST,
  hashSecret,
  type CallbackCaller,
  type HeartbeatReport,
} from '@litecell/protocol'
import { join } from 'node:path'
import type { Launcher, WorkerExit, WorkerProcess } from '../launcher.js'
import type { Registry } from '../registry.js'
import { tenantLogPath } from '../tenant-log.js'
import { LiveWorker } from './live-worker.js'
import type { WorkerFetch } from './worker-client.js'

/** What an adoption needs from the fleet's settings. */
export interface AdoptionParts {
  readonly registry: Registry
  readonly launcher: Launcher
  readonly dataDir: string
  readonly leaseTtlMs: number
  readonly workerFetch?: WorkerFetch | undefined
}

/**
 * Adopts a worker that a previous control plane on this registry launched and that survived
 * its restart (issue 9, item 10), from its heartbeat: the worker proves the secret whose hash
 * the registry kept with its lease epoch, the tenant is still in its recovered form at that
 * epoch with the lease unexpired ({@link Registry.canAdopt}), the worker serves the tenant's
 * incarnation, and the launcher can follow it (a local process by its reported pid, a pod by
 * the name its tenant and epoch give it: a pod's pid means nothing here). Then the tenant is
 * `active` with it and its lease renewed. Undefined otherwise (the heartbeat is refused `LEASE_LOST` as before:
 * the worker fences, and the tenant is recovered once the lease has run out).
 *
 * An adopted local worker is not a child of this process: its exit is seen by the launcher
 * polling its process, and its exit code is unknown. It then counts as a verified hibernation
 * if it reported one, otherwise as a fence (restarted from its files at once, not counted as
 * a crash). A pod's exit code is known (its container's final status): that one is used.
 */
export function adoptWorker(
  parts: AdoptionParts,
  caller: CallbackCaller,
  secret: string | undefined,
  report: HeartbeatReport,
  nowMs: number,
): LiveWorker | undefined {
  const { registry, launcher } = parts
  const { tenantId, epoch } = caller
  if (!secret || !report.url || !launcher.adopt) return undefined
  const tenant = registry.get(tenantId)
  if (!tenant || (tenant.incarnation ?? undefined) !== report.incarnation) return undefined
  const secretHash = hashSecret(secret)
  // Checked before the launcher looks at the process; nothing awaits in between, so the
  // registry cannot change before the lease is taken over below.
  if (!registry.canAdopt(tenantId, epoch, secretHash, nowMs)) return undefined
  const followed = launcher.adopt({
    tenantId,
    epoch,
    pid: report.pid,
    leaseTtlMs: parts.leaseTtlMs,
    logPath: tenantLogPath(join(parts.dataDir, 'logs'), tenantId),
  })
  if (!followed) return undefined
  const expiresAt = registry.adoptLease(
    tenantId,
    epoch,
    secretHash,
    // As for a launched worker: the pid the launcher follows, 0 for a pod (it has none here).
    { url: report.url, pid: followed.pid ?? 0, startedAtMs: nowMs },
    parts.leaseTtlMs,
    nowMs,
  )
  if (expiresAt === null) return undefined
  let live: LiveWorker | undefined
  const process: WorkerProcess = {
    pid: followed.pid,
    kill: (signal) => followed.kill(signal),
    exited: followed.exited.then((exit): WorkerExit =>
      exit.code !== null
        ? exit
        : { code: live?.hasReportedHibernation ? EXIT_HIBERNATED : EXIT_LEASE_LOST, signal: null },
    ),
  }
  live = new LiveWorker({
    tenantId,
    app: tenant.app,
    epoch,
    process,
    startedAtMs: nowMs,
    secret,
    secretHash,
    ...(parts.workerFetch ? { fetch: parts.workerFetch } : {}),
  })
  live.markReady(report.url)
  live.leaseRenewed(expiresAt)
  return live
}
