import { afterEach, expect, test, vi } from 'vitest'
import type { ControlClient } from './control-client.js'
import { Lease, RENEW_RETRY_MS } from './lease.js'

afterEach(() => {
  vi.useRealTimers()
})

test('a renewal that does not reach the control plane is retried within a second, not a heartbeat later', async () => {
  // Catches: a worker whose control plane restarts waiting a whole heartbeat interval (a fifth
  // of the lease) before it is heard again, which leaves a restart little time to adopt it.
  vi.useFakeTimers({ now: 0 })
  const calls: number[] = []
  const client = {
    heartbeat: async () => {
      calls.push(Date.now())
      if (calls.length === 1)
        throw Object.assign(new Error('down'), { code: 'CONTROL_PLANE_UNREACHABLE' })
      return { leaseExpiresAt: Date.now() + 30_000 }
    },
  } as unknown as ControlClient
  const lost: string[] = []
  const lease = new Lease(
    {
      client,
      ttlMs: 30_000,
      fenceMarginMs: 4_000,
      status: async () => ({ activeRuns: 0, nextWakeAt: null }),
      onLost: (reason) => lost.push(reason),
    },
    0,
  )
  lease.start()
  await vi.advanceTimersByTimeAsync(6_000) // the first heartbeat, failed
  expect(calls).toEqual([6_000])
  await vi.advanceTimersByTimeAsync(RENEW_RETRY_MS)
  expect(calls).toEqual([6_000, 6_000 + RENEW_RETRY_MS])
  expect(lease.validUntilMs).toBe(6_000 + RENEW_RETRY_MS + 30_000)
  expect(lost).toEqual([])
  lease.stop()
})
