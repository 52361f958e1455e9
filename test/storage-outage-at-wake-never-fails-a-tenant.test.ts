/**
 * A short storage outage at wake is not the tenant's fault (issue 9, item 7; invariant 5).
 * S3 goes down for 15 s while a hibernated tenant's durable timer comes due: each wake the
 * scheduler tries fails to restore, and a request meanwhile gets 503 STORAGE_UNAVAILABLE. Once
 * S3 is back the tenant wakes and its run completes, and it was never `failed`.
 *
 * Catches: a start that cannot reach S3 counted as a crash (five within seconds marked the
 * tenant failed and its timers stopped until an admin stepped in); the tenant's due timer
 * dropped after a failed wake; a request during the outage answered as anything but a clear
 * 503.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { waitFor } from '@litecell/testkit'
import { OutageS3, createTenant, useServer } from '@litecell/testkit/e2e'

const OUTAGE_MS = 15_000
const SLEEP_MS = 3_000

let s3: OutageS3
beforeAll(async () => {
  s3 = await OutageS3.start()
})
const server = useServer(() => ({ env: { ...s3.env('outage'), LITECELL_IDLE_MS: '60000' } }))
afterAll(async () => {
  await s3.restart()
  await s3.dispose()
})

/** Worker crashes the control plane counted (its Prometheus counter). */
async function crashes(): Promise<number> {
  const metrics = await server.admin.send<any>('GET', '/metrics')
  return Number(/^litecell_worker_crashes_total (\d+)$/m.exec(metrics.text)?.[1] ?? 0)
}

test('S3 down for 15 s while a sleeping tenant is due: the run completes once S3 is back, and the tenant is never failed', async () => {
  const { admin } = server
  await createTenant(admin, 'napper')
  const { runId } = await admin.post<any>('/v1/tenants/napper/runs', {
    workflow: 'sleeper',
    input: { ms: SLEEP_MS },
  })
  await waitFor(
    async () => (await admin.get<any>(`/v1/tenants/napper/runs/${runId}`)).status === 'sleeping',
  )
  const hibernated = await admin.post<any>('/v1/tenants/napper/hibernate')
  expect(hibernated).toMatchObject({ state: 'hibernated' })
  expect(hibernated.nextWakeAt).not.toBeNull()

  // The outage starts before the timer is due and lasts well past it.
  await s3.stop()
  const outageEndsAt = Date.now() + OUTAGE_MS
  const states = new Set<string>()
  let refused: { status: number; body: any } | undefined
  try {
    while (Date.now() < outageEndsAt) {
      const tenant = await admin.get<any>('/v1/tenants/napper')
      states.add(tenant.state)
      expect(tenant.state, JSON.stringify(tenant)).not.toBe('failed')
      if (!refused && Date.now() > Date.parse(hibernated.nextWakeAt) + 1_000) {
        // A request meanwhile: a clear 503, not a crash of the tenant.
        refused = await admin.send<any>('POST', '/v1/tenants/napper/runs', {
          body: { workflow: 'quick' },
        })
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  } finally {
    await s3.restart()
  }
  expect(refused?.status).toBe(503)
  expect(refused?.body.error.code).toBe('STORAGE_UNAVAILABLE')
  // The scheduler did try while S3 was down (the timer was due), and each try failed.
  const log = readFileSync(join(server.dataDir, 'logs', 'control-plane.log'), 'utf8')
  expect(log).toContain('storage unreachable at start; retrying later')
  expect(log).not.toContain('"msg":"tenant failed"')
  // None of those failed starts counted as a crash of the tenant.
  expect(await crashes()).toBe(0)

  // S3 is back: the scheduler's next try (within the backoff's 15 s cap) wakes it, with no request.
  const woken = await waitFor(
    async () => {
      const tenant = await admin.get<any>('/v1/tenants/napper')
      states.add(tenant.state)
      expect(tenant.state).not.toBe('failed')
      return tenant.state === 'active' && tenant
    },
    {
      timeoutMs: 45_000,
      intervalMs: 200,
      what: 'the scheduler to wake the tenant once S3 is back',
    },
  )
  expect(woken.worker.pid).toBeGreaterThan(0)
  const run = await admin.get<any>(`/v1/tenants/napper/runs/${runId}/result?waitMs=20000`)
  expect(run).toMatchObject({ status: 'succeeded' })
  expect(run.output.sleptMs).toBeGreaterThanOrEqual(SLEEP_MS)
  expect([...states]).not.toContain('failed')
})
