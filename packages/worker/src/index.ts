import { fileURLToPath } from 'node:url'

// Paths below go up to packages/ and name their package: src/ and every dist/ sit at the same
// depth, so they hold from the sources and from a bundle this module is part of (the worker's,
// or the control plane's in packages/cli/dist/).
/** The build script of every bundle (plain JavaScript, at the repository root). */
const BUILD_SCRIPT = new URL('../../../scripts/build.mjs', import.meta.url).href
/** The worker's bundles: the process, the engine's query thread, the app check. */
const WORKER_TARGETS = ['worker', 'query-thread', 'app-check'] as const

/** Absolute path of the worker process entry point (its bundle), for launchers. */
export const WORKER_ENTRY = fileURLToPath(new URL('../../worker/dist/worker.mjs', import.meta.url))

/**
 * Heap flags of a worker: a tenant's worker holds one database's engine and a small HTTP API,
 * so a small young generation (the default grows to 16 MB per semi-space) keeps an idle
 * worker's RSS down at the cost of a few more scavenges under load. The old-generation cap
 * is the launcher's (`--max-old-space-size`, per worker).
 */
export const WORKER_HEAP_FLAGS: readonly string[] = ['--max-semi-space-size=2']

/**
 * Node arguments that run the worker: its JavaScript bundle (issue 12: no TypeScript compile
 * and no esbuild service per worker), with source maps for stack traces. Importing this module
 * rebuilds the bundles when a source changed (one stat per input when nothing did), so a
 * launcher never starts a stale worker.
 */
export const WORKER_NODE_ARGS: readonly string[] = [
  '--enable-source-maps',
  ...WORKER_HEAP_FLAGS,
  WORKER_ENTRY,
]

await ensureWorkerBuilt()

/** Builds the worker's bundles that are missing or older than their sources. */
export async function ensureWorkerBuilt(): Promise<void> {
  const { build, isStale } = (await import(BUILD_SCRIPT)) as {
    build: (name: string) => Promise<string>
    isStale: (name: string) => boolean
  }
  for (const target of WORKER_TARGETS) if (isStale(target)) await build(target)
}

export { createTenantApi, MAX_WAIT_MS } from './tenant-api.js'
export type { TenantApiOptions } from './tenant-api.js'
export { WorkerError } from './worker-error.js'
export type { WorkerErrorCode } from './worker-error.js'
export { ControlClient } from './control-client.js'
export type { ControlClientOptions, WorkerStatus } from './control-client.js'
export { RunStatusStream } from './run-stream.js'
export { FinalStatusLedger } from './final-status-ledger.js'
export type { FinalStatusLedgerOptions, MaskableRun } from './final-status-ledger.js'
export type { Replication } from './replicated-ack.js'
export { TenantReplication } from './tenant-replication.js'
export type { TenantReplicationOptions } from './tenant-replication.js'
export { loadApp } from './app-loader.js'
export { isEngineIdle } from './idle-monitor.js'
export { checkApps, APP_CHECK_TIMEOUT_MS } from './app-check.js'
export type { AppLoadFailure } from './app-check.js'
export { OTLP_ENDPOINT_ENV, startOtlpExportFromEnv } from './otlp-export.js'
export type { StopTracing } from './otlp-export.js'
