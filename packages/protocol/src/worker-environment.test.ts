import { expect, test } from 'vitest'
import {
  parseWorkerEnvironment,
  serializeWorkerEnvironment,
  type WorkerSettings,
} from './worker-environment.js'

const settings: WorkerSettings = {
  tenantId: 'acme',
  epoch: 7,
  workerSecret: 'lcw_secret',
  controlUrl: 'http://127.0.0.1:8787',
  appPath: '/app/app.ts',
  storage: { endpoint: 'http://127.0.0.1:9000', bucket: 'b-1', prefix: 'p', region: 'us-east-1' },
  idleMs: 3_000,
  leaseTtlMs: 6_000,
  syncIntervalMs: 200,
}

test('the parser reads back what the serializer wrote, with the defaults filled in', () => {
  const env = serializeWorkerEnvironment(settings, { tenantDir: '/data/tenants/acme' })
  expect(parseWorkerEnvironment(env)).toEqual({
    ...settings,
    tenantDir: '/data/tenants/acme',
    host: '127.0.0.1',
    port: 0,
    advertiseHost: '127.0.0.1',
    fenceMarginMs: 3_000,
    stopTimeoutMs: 60_000,
    syncTimeoutMs: 100_000,
  })
})

test('optional settings and a placement travel too', () => {
  const env = serializeWorkerEnvironment(
    {
      ...settings,
      concurrency: 8,
      fenceMarginMs: 1_000,
      stopTimeoutMs: 5_000,
      syncTimeoutMs: 9_000,
      appName: 'shop',
      appUpgradeFrom: 'lab',
      replicationAckTimeoutMs: 2_500,
      incarnation: '0123456789abcdef',
    },
    {
      tenantDir: '/var/lib/litecell/tenants/acme',
      host: '0.0.0.0',
      port: 8080,
      advertiseHost: '10.0.0.7',
    },
  )
  expect(parseWorkerEnvironment(env)).toMatchObject({
    concurrency: 8,
    fenceMarginMs: 1_000,
    stopTimeoutMs: 5_000,
    syncTimeoutMs: 9_000,
    appName: 'shop',
    appUpgradeFrom: 'lab',
    replicationAckTimeoutMs: 2_500,
    incarnation: '0123456789abcdef',
    host: '0.0.0.0',
    port: 8080,
    advertiseHost: '10.0.0.7',
  })
})

test('a missing or malformed variable is INVALID_CONFIG naming it', () => {
  const env = serializeWorkerEnvironment(settings, { tenantDir: '/data/tenants/acme' })
  const without = (name: string) => ({ ...env, [name]: undefined })
  const cases: [NodeJS.ProcessEnv, RegExp][] = [
    [without('LITECELL_EPOCH'), /LITECELL_EPOCH/],
    [without('LITECELL_WORKER_SECRET'), /LITECELL_WORKER_SECRET/],
    [{ ...env, LITECELL_TENANT_ID: '../etc' }, /LITECELL_TENANT_ID to be a slug, got `..\/etc`/],
    [{ ...env, LITECELL_APP: 'app.ts' }, /LITECELL_APP to be an absolute path/],
    [{ ...env, LITECELL_IDLE_MS: '-1' }, /LITECELL_IDLE_MS to be a non-negative integer, got `-1`/],
    [{ ...env, LITECELL_S3_BUCKET: '', LITECELL_S3_ENDPOINT: '' }, /no storage configured/],
    [
      { ...env, LITECELL_REPLICATION_ACK_TIMEOUT_MS: '0' },
      /LITECELL_REPLICATION_ACK_TIMEOUT_MS to be an integer from 1 and up, got `0`/,
    ],
    [{ ...env, LITECELL_INCARNATION: '../x' }, /LITECELL_INCARNATION to be an incarnation id/],
  ]
  for (const [broken, message] of cases) {
    expect(() => parseWorkerEnvironment(broken)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(message) }),
    )
  }
})

test('a fork names its source and time; half a source is INVALID_CONFIG', () => {
  const restoreFrom = {
    tenantId: 'lab',
    at: '2026-11-23T09:00:00.000Z',
    incarnation: 'fedcba9876543210',
  }
  const env = serializeWorkerEnvironment({ ...settings, restoreFrom }, { tenantDir: '/t/acme' })
  expect(parseWorkerEnvironment(env).restoreFrom).toEqual(restoreFrom)
  expect(() => parseWorkerEnvironment({ ...env, LITECELL_RESTORE_FROM_AT: 'yesterday' })).toThrow(
    /LITECELL_RESTORE_FROM_AT to be an ISO 8601 time/,
  )
  expect(() => parseWorkerEnvironment({ ...env, LITECELL_RESTORE_FROM_TENANT: '' })).toThrow(
    /LITECELL_RESTORE_FROM_TENANT to be a tenant id/,
  )
})
