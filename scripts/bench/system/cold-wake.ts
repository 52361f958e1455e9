import type { BenchServer } from './bench-server.js'

/** One cold wake, as the client saw it. */
export interface ColdWake {
  /** From `POST …/runs` on the hibernated tenant to its 202 (restore, Litestream, engine open). */
  readonly acceptedMs: number
  /** From the same request to the run's result (a 3-step workflow). */
  readonly completedMs: number
}

/**
 * Scenario 3, one measurement: the first run submitted to a hibernated tenant. The control
 * plane wakes it (a worker restores the database from S3, starts Litestream, opens the
 * engine) and proxies the submission. Throws unless the tenant was hibernated before and
 * the run succeeded with the right output.
 */
export async function coldWake(server: BenchServer, id: string, n: number): Promise<ColdWake> {
  const before = await server.admin.getTenant(id)
  if (before.state !== 'hibernated') throw new Error(`cold wake ${id}: expected a hibernated tenant, got ${before.state}`)
  const startedMs = performance.now()
  const submitted = await server.admin.startRun(id, { workflow: 'three-steps', input: { n } })
  const acceptedMs = performance.now() - startedMs
  const result = await server.admin.runResult(id, submitted.runId, { waitMs: 60_000 })
  const completedMs = performance.now() - startedMs
  if (result.status !== 'succeeded' || result.output !== n + 3) {
    throw new Error(`cold wake ${id}: first run ${JSON.stringify(result)}`)
  }
  return { acceptedMs, completedMs }
}
