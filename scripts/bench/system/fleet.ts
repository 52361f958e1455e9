import { isLitecellError } from '@litecell/client'
import type { BenchServer } from './bench-server.js'
import { hibernateVerified } from './hibernate.js'
import { submitBatch, waitForRunsEnded, withRetry } from './run-client.js'
import { delay } from './stats.js'

/** Longest all tenants may take to report hibernated. */
const SETTLE_TIMEOUT_MS = 180_000

/** Ids of the fleet's tenants: `bench-fleet-000` … */
export function fleetTenantIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `bench-fleet-${String(i).padStart(3, '0')}`)
}

/** Creates the fleet's tenants (hibernated, never run). */
export async function createTenants(server: BenchServer, ids: readonly string[]): Promise<void> {
  for (const id of ids) await server.admin.createTenant({ id, app: 'bench' })
}

/** Longest a create is retried while the registry's change is not confirmed in S3. */
const CREATE_RETRY_MS = 120_000

/**
 * Creates a tenant of the bench app (hibernated, never run). On a machine this loaded the
 * registry's S3 confirmation can take longer than its timeout (503 STORAGE_UNAVAILABLE; the
 * row stays in the local registry): the create is then retried, and a 409 TENANT_EXISTS after
 * such a retry means the first attempt took.
 */
export async function createBenchTenant(server: BenchServer, id: string): Promise<void> {
  const deadline = Date.now() + CREATE_RETRY_MS
  let retried = false
  for (;;) {
    try {
      await server.admin.createTenant({ id, app: 'bench' })
      return
    } catch (err) {
      if (retried && isLitecellError(err) && err.code === 'TENANT_EXISTS') return
      const unconfirmed = isLitecellError(err) && err.code === 'STORAGE_UNAVAILABLE'
      if (!unconfirmed || Date.now() > deadline) throw err
      retried = true
      await delay(1_000)
    }
  }
}

/**
 * Creates the fleet's tenants and gives each a replica: one run, then a verified hibernation,
 * `concurrency` tenants at a time, so that every wake afterwards restores from S3.
 */
export async function seedFleet(server: BenchServer, ids: readonly string[], concurrency: number): Promise<void> {
  await createTenants(server, ids)
  await forEachLimit(ids, concurrency, async (id) => {
    const [runId] = await submitBatch(server.admin, id, [{ workflow: 'three-steps', input: { n: 0 } }])
    const [row] = await waitForRunsEnded(server.admin, id, [runId!], 120_000)
    if (row?.status !== 'succeeded') throw new Error(`seed ${id}: run ${JSON.stringify(row)}`)
    await hibernateVerified(server, id)
  })
}

/** Hibernates every active tenant and waits until the registry shows none active and no worker is left; throws at once for a failed tenant. */
export async function hibernateAll(server: BenchServer): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS
  for (;;) {
    const tenants = await server.admin.listTenants()
    const awake = tenants.filter((t) => t.state !== 'hibernated')
    if (awake.length === 0) return
    // A failed tenant never hibernates by itself: say so now, not at the timeout.
    const failed = awake.filter((t) => t.state === 'failed')
    if (failed.length > 0) throw new Error(`tenants failed instead of hibernating: ${failed.map((t) => t.id).join(', ')}`)
    if (Date.now() > deadline) throw new Error(`tenants not hibernated after ${SETTLE_TIMEOUT_MS} ms: ${awake.map((t) => `${t.id}=${t.state}`).join(', ')}`)
    await Promise.all(
      awake
        .filter((t) => t.state === 'active')
        .map((t) => withRetry(() => server.admin.hibernateTenant(t.id))),
    )
    await delay(200)
  }
}

/** Runs `task` over `items` with at most `limit` at once; the first error rejects (after the rest settle). */
export async function forEachLimit<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failure: unknown
  const lane = async () => {
    while (next < items.length && failure === undefined) {
      const item = items[next++]!
      await task(item).catch((err: unknown) => {
        failure ??= err
      })
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
  if (failure !== undefined) throw failure
}
