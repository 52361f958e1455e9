import { expect, test } from 'vitest'
import {
  callbackPath,
  parseCallbackCaller,
  parseHeartbeatReport,
  parseMetricsDelta,
} from './internal-api.js'

test('callback paths sit under the route the control plane mounts', () => {
  expect(callbackPath('heartbeat')).toBe('/workers/heartbeat')
})

test('a callback names a valid tenant id and a positive epoch', () => {
  expect(parseCallbackCaller({ tenantId: 'acme', epoch: 3 })).toEqual({
    tenantId: 'acme',
    epoch: 3,
  })
  expect(() => parseCallbackCaller({ tenantId: '../x', epoch: 3 })).toThrow(
    expect.objectContaining({ code: 'INVALID_TENANT_ID' }),
  )
  expect(() => parseCallbackCaller({ tenantId: 'acme', epoch: -1 })).toThrow(
    expect.objectContaining({ code: 'BAD_REQUEST' }),
  )
})

test('malformed metrics are dropped, not fatal', () => {
  const metrics = { runs: { succeeded: 2 }, stepMs: [1.5], steps: 1, replicationRestarts: 0 }
  expect(parseMetricsDelta(metrics)).toEqual(metrics)
  for (const bad of [null, 'x', { ...metrics, steps: -1 }, { ...metrics, stepMs: ['1'] }]) {
    expect(parseMetricsDelta(bad)).toBeUndefined()
  }
  expect(parseHeartbeatReport({ activeRuns: 2, metrics: { steps: 'many' } })).toEqual({
    activeRuns: 2,
    nextWakeAt: null,
  })
})
