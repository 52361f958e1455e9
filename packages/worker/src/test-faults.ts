import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Faults for the end-to-end tests only, switched on by `LITECELL_TEST_FAULTS` (a
 * comma-separated list) in the worker's environment; unset, as in any real deployment, they do
 * nothing. They stage a crash at a moment an outside SIGKILL can only hit by luck.
 *
 * `kill-after-commit-once`: the worker SIGKILLs itself after a run start committed and before
 * its 202 is written (a response lost after the commit), once per tenant folder: a marker file
 * there, holding the committed run's id, keeps the replacement worker from doing it again and
 * tells the test which run it was (test/accepted-means-committed.test.ts).
 */
export const TEST_FAULTS_ENV = 'LITECELL_TEST_FAULTS'
/** The marker `kill-after-commit-once` leaves in the tenant's folder. */
export const KILL_AFTER_COMMIT_MARKER = 'test-fault-killed-after-commit'

/** The test faults a worker was started with: hooks the tenant API calls at fixed moments. */
export interface TestFaults {
  /** Called after a run start committed, before its response is written. */
  afterStartCommitted(runId: string): void
}

// Read once, at worker start.
const FAULTS = new Set((process.env[TEST_FAULTS_ENV] ?? '').split(',').map((name) => name.trim()))

/** The faults switched on for the tenant folder `tenantDir`; none unless a test set them. */
export function testFaults(tenantDir: string): TestFaults {
  return {
    afterStartCommitted(runId) {
      if (!FAULTS.has('kill-after-commit-once')) return
      let fd: number
      try {
        // `wx`: only the first worker of this folder gets to create it.
        fd = openSync(join(tenantDir, KILL_AFTER_COMMIT_MARKER), 'wx')
      } catch {
        return
      }
      writeSync(fd, runId)
      fsyncSync(fd)
      closeSync(fd)
      process.kill(process.pid, 'SIGKILL')
    },
  }
}
