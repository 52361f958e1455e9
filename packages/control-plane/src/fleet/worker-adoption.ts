import {
  EXIT_HIBERNATED,
  EXIT_LEASE_LOST,
  hashSecret,
  type CallbackCaller,
  type HeartbeatReport,
} from '@litecell/protocol'
import type { Launcher, WorkerExit, WorkerProcess } from '../launcher.js'
import type { Registry } from '../registry.js'
import { LiveWorker } from './live-worker.js'
import type { WorkerFetch } from './worker-client.js'

/** What an adoption needs from the fleet's settings. */
export interface AdoptionParts {
  readonly registry: Registry
  readonly launcher: Launcher
  readonly leaseTtlMs: number
  readonly workerFetch?: WorkerFetch | undefined
}

/**
 * Adopts a worker that a previous control plane on this registry launched and that survived
 * its restart (issue 9, item 10), from its heartbeat: the worker proves the secret whose hash
 * the registry kept with its lease epoch, the tenant is still in its recovered form at that
 * epoch with the lease unexpired ({@link Registry.canAdopt}), the worker serves the tenant's
 * incarnation, and the launcher can follow its process. Then the tenant is `active` with it
 * and its lease renewed. Undefined otherwise (the heartbeat is refused `LEASE_LOST` as before:
 * the worker fences, and the tenant is recovered once the lease has run out).
 *
 * An adopted worker is not a child of this process: its exit is seen by the launcher polling
 * its process, and its exit code is unknown. It counts as a verified hibernation if it reported
 * one, otherwise as a fence (restarted from its files at once, not counted as a crash).
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
  if (!secret || !report.url || !report.pid || !launcher.adopt) return undefined
  const tenant = registry.get(tenantId)
  if (!tenant || (tenant.incarnation ?? undefined) !== report.incarnation) return undefined
  const secretHash = hashSecret(secret)
  // Checked before the launcher looks at the process; nothing awaits in between, so the
  // registry cannot change before the lease is taken over below.
  if (!registry.canAdopt(tenantId, epoch, secretHash, nowMs)) return undefined
  const followed = launcher.adopt({ tenantId, pid: report.pid })
  if (!followed) return undefined
  const expiresAt = registry.adoptLease(
    tenantId,
    epoch,
    secretHash,
    { url: report.url, pid: report.pid, startedAtMs: nowMs },
    parts.leaseTtlMs,
    nowMs,
  )
  if (expiresAt === null) return undefined
  let live: LiveWorker | undefined
  const process: WorkerProcess = {
    pid: followed.pid,
    kill: (signal) => followed.kill(signal),
    exited: followed.exited.then((): WorkerExit => ({
      code: live?.hasReportedHibernation ? EXIT_HIBERNATED : EXIT_LEASE_LOST,
      signal: null,
    })),
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
