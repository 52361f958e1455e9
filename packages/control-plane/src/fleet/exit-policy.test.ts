import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  EXIT_FAILED,
  EXIT_HIBERNATED,
  EXIT_LEASE_LOST,
  EXIT_STORAGE_UNAVAILABLE,
} from '@litecell/protocol'
import pino from 'pino'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { Registry } from '../registry.js'
import { CRASH_LIMIT, classifyExit, settleExit, storageBackoffMs } from './exit-policy.js'

const log = pino({ level: 'silent' })
let dir: string
let registry: Registry

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'exit-policy-'))
  registry = Registry.open(join(dir, 'registry.db'))
  registry.createTenant({
    id: 'acme',
    app: 'default',
    labels: {},
    tokenHash: 'h',
    state: 'hibernated',
    nowMs: 0,
  })
})

afterEach(() => {
  registry.close()
  rmSync(dir, { recursive: true, force: true })
})

const exit = (code: number | null) => ({ code, signal: code === null ? 'SIGKILL' : null })
const worker = (overrides: { reportedNextWakeAt?: number | null; wasReady?: boolean } = {}) => ({
  tenantId: 'acme',
  epoch: registry.beginLease('acme', 10_000, 0),
  reportedNextWakeAt: undefined,
  wasReady: true,
  app: 'default',
  ...overrides,
})

test("exit 0 counts as a hibernation only with the worker's hibernated report", () => {
  // Catches: trusting exit code 0 alone; an app's process.exit(0) leaves unsynced files.
  const options = { closing: false }
  expect(classifyExit(exit(EXIT_HIBERNATED), { ...options, reportedHibernation: true })).toBe(
    'hibernated',
  )
  expect(classifyExit(exit(EXIT_HIBERNATED), { ...options, reportedHibernation: false })).toBe(
    'crashed',
  )
  expect(classifyExit(exit(EXIT_LEASE_LOST), { ...options, reportedHibernation: false })).toBe(
    'fenced',
  )
  expect(classifyExit(exit(EXIT_FAILED), { ...options, reportedHibernation: false })).toBe(
    'crashed',
  )

  settleExit({ registry, log }, worker(), exit(EXIT_HIBERNATED), { nowMs: 1_000, closing: false })
  expect(registry.get('acme')?.state).toBe('hibernated')
  expect(
    registry.recordCrash('acme', { exitCode: 1, detail: 'probe', nowMs: 1_001, sinceMs: 0 }),
  ).toBe(2)
})

test('storage failures at start are never crashes: the tenant is never failed and keeps its due timer, retried with backoff', () => {
  // Catches: counting "storage unreachable" as a crash (five in a few seconds mark the tenant
  // failed and its timers stop), and dropping the tenant's own wake time.
  registry.setState('acme', 'hibernated', { nextWakeAt: 500 })
  let nowMs = 1_000
  for (let failures = 1; failures <= CRASH_LIMIT * 2; failures += 1) {
    const kind = settleExit(
      { registry, log },
      worker({ wasReady: false }),
      exit(EXIT_STORAGE_UNAVAILABLE),
      {
        nowMs,
        closing: false,
        storageFailures: failures,
      },
    )
    expect(kind).toBe('storage-unavailable')
    const tenant = registry.get('acme')!
    expect(tenant.state).toBe('hibernated')
    expect(tenant.nextWakeAt).toBe(nowMs + storageBackoffMs(failures))
    nowMs = tenant.nextWakeAt!
  }
  expect(registry.recordCrash('acme', { exitCode: 1, detail: 'probe', nowMs, sinceMs: 0 })).toBe(1)
})

test('a storage failure at start leaves a tenant without a timer without one (its caller got the 503)', () => {
  registry.setState('acme', 'hibernated', { nextWakeAt: null })
  settleExit({ registry, log }, worker({ wasReady: false }), exit(EXIT_STORAGE_UNAVAILABLE), {
    nowMs: 1_000,
    closing: false,
    storageFailures: 1,
  })
  expect(registry.get('acme')?.nextWakeAt).toBeNull()
})

test('a hibernation that could not verify its replica restarts from the kept files after the backoff', () => {
  settleExit({ registry, log }, worker({ wasReady: true }), exit(EXIT_STORAGE_UNAVAILABLE), {
    nowMs: 1_000,
    closing: false,
    storageFailures: 3,
  })
  expect(registry.get('acme')?.nextWakeAt).toBe(1_000 + storageBackoffMs(3))
})
