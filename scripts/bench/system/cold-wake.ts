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
  const before = await server.admin.ok('GET', `/v1/tenants/${id}`)
  if (before.state !== 'hibernated') throw new Error(`cold wake ${id}: expected a hibernated tenant, got ${before.state}`)
  const startedMs = performance.now()
  const submitted = await server.admin.post(`/v1/tenants/${id}/runs`, { workflow: 'three-steps', input: { n } })
  const acceptedMs = performance.now() - startedMs
  if (submitted.status !== 202) throw new Error(`cold wake ${id}: submit ${submitted.status} ${JSON.stringify(submitted.body)}`)
  const result = await server.admin.get(`/v1/tenants/${id}/runs/${submitted.body.runId}/result?waitMs=60000`)
  const completedMs = performance.now() - startedMs
  if (result.status !== 200 || result.body.status !== 'succeeded' || result.body.output !== n + 3) {
    throw new Error(`cold wake ${id}: first run ${result.status} ${JSON.stringify(result.body)}`)
  }
  return { acceptedMs, completedMs }
}
