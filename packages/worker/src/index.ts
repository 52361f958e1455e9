import { fileURLToPath } from 'node:url'

/** Absolute path of the worker process entry point, for launchers. */
export const WORKER_ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url))

/**
 * Node arguments that run the worker entry point: the TypeScript loader is resolved from this
 * package, so a launcher works from any current directory.
 */
export const WORKER_NODE_ARGS: readonly string[] = [
  '--import',
  import.meta.resolve('tsx'),
  WORKER_ENTRY,
]

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
