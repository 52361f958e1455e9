import { join } from 'node:path'
import {
  EXIT_APP_LOAD_FAILED,
  EXIT_APP_REFUSED,
  EXIT_NO_RESTORE_POINT,
  EXIT_STORAGE_UNAVAILABLE,
  hashSecret,
  newSecret,
  type WorkerSettings,
} from '@litecell/protocol'
import { ControlPlaneError } from '../control-plane-error.js'
import type { Launcher } from '../launcher.js'
import type { Registry } from '../registry.js'
import { tenantLogPath } from '../tenant-log.js'
import { LiveWorker } from './live-worker.js'
import type { WorkerFetch } from './worker-client.js'

/** Longest a worker may take from launch to ready. */
export const DEFAULT_START_TIMEOUT_MS = 30_000

/** What a launch needs from the fleet's settings. */
export interface LaunchParts {
  readonly registry: Registry
  readonly launcher: Launcher
  readonly dataDir: string
  readonly leaseTtlMs: number
  readonly workerSettings: (
    tenantId: string,
    app: string,
  ) => Omit<WorkerSettings, 'epoch' | 'workerSecret'>
  readonly workerFetch?: WorkerFetch | undefined
  /** Resolves once the registry's changes so far are confirmed in S3 (issue 11). */
  readonly confirmRegistry?: (() => Promise<void>) | undefined
}

/**
 * Launches a worker for the tenant under a new lease epoch (the tenant becomes `starting`)
 * with a fresh secret that only this control plane and the worker know; a fork's worker is
 * told its source. A worker on a machine of its own (a pod) starts only once its epoch is
 * confirmed in S3: it can outlive this control plane's machine, and a control plane restored
 * from S3 must not hand the same epoch out again (`STORAGE_UNAVAILABLE` if S3 does not
 * confirm; the tenant stays hibernated). A local worker shares this machine's fate, so its
 * epoch is not waited for: a machine loss takes the worker with it.
 * The worker learns the tenant's incarnation: it replicates under it and
 * refuses a local folder of another.
 */
export async function launchWorker(
  parts: LaunchParts,
  tenantId: string,
  nowMs: number,
): Promise<LiveWorker> {
  const { registry, launcher, dataDir, leaseTtlMs } = parts
  const tenant = registry.require(tenantId)
  const secret = newSecret()
  // The secret's hash is kept with the lease: a control plane restarted on this registry
  // adopts the worker only if its heartbeat proves this secret (see `Fleet`).
  const secretHash = hashSecret(secret)
  const epoch = registry.beginLease(tenantId, leaseTtlMs, nowMs, secretHash)
  if (launcher.remoteWorkers && parts.confirmRegistry) {
    try {
      await parts.confirmRegistry()
    } catch (err) {
      registry.endLease(tenantId, epoch)
      registry.setState(tenantId, 'hibernated', { clearWorker: true })
      throw new ControlPlaneError(
        'STORAGE_UNAVAILABLE',
        `wake tenant ${tenantId}: lease epoch ${epoch} not confirmed in S3, so no worker pod starts; retry once storage is back`,
        { cause: err },
      )
    }
  }
  const settings: WorkerSettings = {
    ...parts.workerSettings(tenantId, tenant.app),
    ...(tenant.incarnation === null ? {} : { incarnation: tenant.incarnation }),
    appName: tenant.app,
    ...(tenant.appUpgradeFrom === null ? {} : { appUpgradeFrom: tenant.appUpgradeFrom }),
    epoch,
    workerSecret: secret,
    ...(tenant.restoreFrom ? { restoreFrom: tenant.restoreFrom } : {}),
  }
  const process = launcher.launch({
    settings,
    logPath: tenantLogPath(join(dataDir, 'logs'), tenantId),
  })
  return new LiveWorker({
    tenantId,
    app: tenant.app,
    epoch,
    process,
    startedAtMs: nowMs,
    secret,
    secretHash,
    ...(parts.workerFetch ? { fetch: parts.workerFetch } : {}),
  })
}

/**
 * Resolves once the worker reported ready; `WORKER_START_FAILED` (naming its log) if it exits
 * first or is not ready within `timeoutMs` (it is then killed).
 */
export async function untilReady(live: LiveWorker, timeoutMs: number): Promise<void> {
  const { tenantId, process } = live
  let timer: NodeJS.Timeout | undefined
  const outcome = await Promise.race([
    live.ready.then(() => 'ready' as const),
    process.exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
  ])
  clearTimeout(timer)
  if (outcome === 'ready') return
  if (outcome === 'timeout') process.kill('SIGKILL')
  const exit = await process.exited
  if (exit.code === EXIT_STORAGE_UNAVAILABLE) {
    throw new ControlPlaneError(
      'STORAGE_UNAVAILABLE',
      `wake tenant ${tenantId}: the storage is unreachable; the tenant is retried with backoff, never marked failed for it`,
    )
  }
  if (exit.code === EXIT_APP_LOAD_FAILED) throw appLoadFailed(live)
  // The engine refused the file: say why (which app or migration, and what to do).
  if (exit.code === EXIT_APP_REFUSED && live.refusal) {
    throw new ControlPlaneError(live.refusal.code, live.refusal.message)
  }
  if (exit.code === EXIT_NO_RESTORE_POINT) {
    throw new ControlPlaneError(
      'NO_RESTORE_POINT',
      `wake tenant ${tenantId}: its source holds nothing at the time asked; see logs/${tenantId}.log`,
    )
  }
  throw new ControlPlaneError(
    'WORKER_START_FAILED',
    `wake tenant ${tenantId}: worker ${outcome === 'timeout' ? `not ready within ${timeoutMs} ms` : 'exited during start'}; see logs/${tenantId}.log`,
  )
}

/**
 * The error a wake answers when the tenant's app module does not load: the module's own error
 * (as the worker reported it), and how to retry once the app is fixed. The tenant is not
 * crashed: its state is `failed` with this reason until an admin's wake (see exit-policy.ts).
 */
export function appLoadFailed(live: {
  tenantId: string
  app: string
  refusal?: { message: string } | null | undefined
}): ControlPlaneError {
  const detail = live.refusal?.message ?? 'no detail reported'
  return new ControlPlaneError(
    'APP_LOAD_FAILED',
    `wake tenant ${live.tenantId}: app \`${live.app}\` does not load: ${detail}; fix the app, then retry with \`litecell tenants wake ${live.tenantId}\``,
  )
}
