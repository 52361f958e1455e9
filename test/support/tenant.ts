import type { ApiClient } from './api-client.js'
import { waitFor } from './wait-for.js'

/** Creates a tenant and returns its id and token. */
export async function createTenant(
  admin: ApiClient,
  id: string,
  app = 'test',
): Promise<{ id: string; token: string }> {
  return admin.ok('POST', '/v1/tenants', { id, app })
}

/** Waits until every listed run of the tenant has ended; returns the final runs. */
export async function waitForRuns(
  client: ApiClient,
  tenantId: string,
  runIds: readonly string[],
  timeoutMs = 120_000,
): Promise<any[]> {
  const pending = new Set(runIds)
  const done = new Map<string, any>()
  await waitFor(
    async () => {
      for (const runId of [...pending].slice(0, 50)) {
        const run = await client.ok('GET', `/v1/tenants/${tenantId}/runs/${runId}/result?waitMs=2000`)
        if (['succeeded', 'failed', 'cancelled'].includes(run.status)) {
          pending.delete(runId)
          done.set(runId, run)
        }
      }
      return pending.size === 0
    },
    { timeoutMs, intervalMs: 10, what: `${pending.size} runs of ${tenantId} to end` },
  )
  return runIds.map((id) => done.get(id))
}

/** Runs read-only SQL in the tenant and returns its rows. */
export async function query(client: ApiClient, tenantId: string, sql: string, args: unknown[] = []): Promise<any[]> {
  const result = await client.ok('POST', `/v1/tenants/${tenantId}/query`, { sql, args })
  return result.rows
}
