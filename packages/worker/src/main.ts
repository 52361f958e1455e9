/**
 * Entry point of a worker process (bundled as dist/worker.mjs, or `node --import tsx main.ts`
 * from source), configured through its environment by the launcher (`parseWorkerEnvironment`
 * in @litecell/protocol), either at spawn or, for a standby worker, by an assignment message
 * (see standby.ts). Logs JSON lines to stdout.
 */
import {
  APP_REFUSAL_CODES,
  EXIT_APP_LOAD_FAILED,
  EXIT_APP_REFUSED,
  EXIT_FAILED,
  EXIT_LEASE_LOST,
  EXIT_NO_RESTORE_POINT,
  EXIT_STORAGE_UNAVAILABLE,
  WORKER_ENV,
  isStorageOutage,
  parseWorkerEnvironment,
} from '@litecell/protocol'
import { setTimeout as sleep } from 'node:timers/promises'
import pino from 'pino'
import { join } from 'node:path'
import { compiledAppsDir } from './app-compiler.js'
import { startOtlpExportFromEnv, type StopTracing } from './otlp-export.js'
import { installSafetyNet } from './safety-net.js'
import { awaitAssignment } from './standby.js'
import { TenantWorker } from './tenant-worker.js'

/** How long the worker waits for responses in flight (the hibernate call) before it exits. */
const EXIT_FLUSH_MS = 2_000

// A log pipe closed by a dying control plane must not kill the worker: its lease decides.
process.stdout.on('error', () => undefined)
process.stderr.on('error', () => undefined)
let log = pino({ base: { pid: process.pid } })

// App code runs in this process: a rejection or a throw it leaves behind (a floating promise,
// a throwing timer) must not take the tenant down (issue 9). Installed before any app loads.
const safetyNet = installSafetyNet({
  log: () => log,
  onFatal: () => process.exit(EXIT_FAILED),
})
// Bundled, apps run from their compiled bundles: frames there are app code too (source maps
// usually name the app's own files instead).
const compiledApps = compiledAppsDir()
if (compiledApps) safetyNet.setAppPath(join(compiledApps, 'app.mjs'))

let stopTracing: StopTracing | undefined

async function main(): Promise<number> {
  // Inherited from `litecell serve` at spawn: spans go where the server's go.
  stopTracing = await startOtlpExportFromEnv('litecell-worker')
  await awaitAssignment()
  log = pino({ base: { tenant: process.env[WORKER_ENV.tenantId], pid: process.pid } })
  const config = parseWorkerEnvironment(process.env)
  safetyNet.setAppPath(config.appPath)
  const worker = await TenantWorker.start(config, log)
  // SIGTERM (an operator, Kubernetes deleting the pod): hibernate properly, then exit.
  process.once('SIGTERM', () => void worker.hibernate('signal'))
  process.once('SIGINT', () => void worker.hibernate('signal'))
  const code = await worker.exited
  await worker.closeServer(EXIT_FLUSH_MS)
  return code
}

main().then(
  async (code) => {
    // The last spans (the hibernation's request) are sent before the exit, within a bound.
    if (stopTracing) await Promise.race([stopTracing().catch(() => undefined), sleep(EXIT_FLUSH_MS)])
    process.exit(code)
  },
  (err: unknown) => {
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string' && (APP_REFUSAL_CODES as readonly string[]).includes(code)) {
      log.error({ err }, 'tenant refused: its file does not match the app')
      process.exit(EXIT_APP_REFUSED)
    }
    log.fatal({ err }, 'worker failed to start')
    process.exit(startFailureExitCode((err as { code?: unknown }).code))
  },
)

/**
 * How a failed start ends: a fork with nothing to restore, an app that does not load, storage that cannot be reached (a
 * short S3 outage must not count as the tenant's crash, issue 9, item 7), a lease the control
 * plane took back before `ready` (a fence, not a crash of the tenant), or a failure.
 */
function startFailureExitCode(code: unknown): number {
  if (code === 'NO_RESTORE_POINT') return EXIT_NO_RESTORE_POINT
  if (code === 'LEASE_LOST') return EXIT_LEASE_LOST
  if (code === 'APP_LOAD_FAILED') return EXIT_APP_LOAD_FAILED
  if (isStorageOutage(code)) return EXIT_STORAGE_UNAVAILABLE
  return EXIT_FAILED
}
