/**
 * `@litecell/testkit`: test support for litecell's own tests, benchmarks and demo. It is a
 * dependency of the workspace root only, never of a production package. Subpaths:
 * `./engine` (engines on temp files), `./replica` (embedded S3 and test databases), `./replicated-tenant` (engine, real
 * Litestream and the tenant API with replicated acknowledgements, in the test's process),
 * `./server` (a real `litecell serve`), `./e2e` (the end-to-end harness, on vitest),
 * `./in-process` (the control plane's app with in-process workers, for route tests),
 * `./browser` (headless Chromium for the dashboard), `./kubernetes` (the fake Kubernetes API
 * and kubelet).
 */
export { DEFAULT_WAIT_INTERVAL_MS, DEFAULT_WAIT_TIMEOUT_MS, waitFor } from './wait-for.js'
export type { WaitForOptions } from './wait-for.js'
export { freePort } from './free-port.js'
export { ManualClock } from './manual-clock.js'
export { removeTempDirs, tempDir } from './temp-dirs.js'
export {
  describeProcess,
  isAlive,
  isEmbeddedS3Server,
  isSameProcessAlive,
  listProcesses,
  pids,
  pssBytes,
  readProcess,
  replicatorsByReplica,
  replicatorsOf,
  rssBytes,
  totalRss,
  treeOf,
} from './processes.js'
export type { ProcessInfo } from './processes.js'
export { ProcessFamily } from './process-family.js'
