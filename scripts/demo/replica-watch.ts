import { setTimeout as sleep } from 'node:timers/promises'
import type { PatientApi } from './patient-api.js'

/**
 * Waits until the tenant's S3 replica holds an object stored at or after ISO time `since`
 * (`GET /v1/tenants/:id` lists its restore points); returns that object's time.
 */
export async function waitUntilReplicated(
  api: PatientApi,
  tenantId: string,
  since: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<string> {
  const deadline = performance.now() + options.timeoutMs
  for (;;) {
    const { replica } = await api.get<{ replica: { latestAt?: string | null } }>(`/v1/tenants/${tenantId}`)
    if (replica.latestAt && Date.parse(replica.latestAt) >= Date.parse(since)) return replica.latestAt
    if (performance.now() > deadline) {
      throw new Error(`${tenantId}'s replica holds nothing newer than ${since} after ${options.timeoutMs / 1_000} s`)
    }
    await sleep(100, undefined, { signal: options.signal })
  }
}
