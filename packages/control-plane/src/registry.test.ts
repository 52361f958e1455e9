import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { openSqlite } from '@litecell/replica'
import { Registry } from './registry.js'

let dir: string
let registry: Registry

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'registry-'))
  registry = Registry.open(join(dir, 'registry.db'))
  registry.createTenant({ id: 'acme', app: 'default', labels: {}, tokenHash: 'h1', state: 'hibernated', nowMs: 0 })
})

afterEach(() => {
  registry.close()
  rmSync(dir, { recursive: true, force: true })
})

test('each lease takes a new epoch and only the current epoch can renew', () => {
  const first = registry.beginLease('acme', 10_000, 1_000)
  const second = registry.beginLease('acme', 10_000, 2_000)
  expect(second).toBe(first + 1)
  expect(registry.renewLease('acme', first, 10_000, 3_000)).toBeNull()
  expect(registry.renewLease('acme', second, 10_000, 3_000)).toBe(13_000)
})

test('a deleting tenant is unreachable: no route finds it, no lease, no worker, no state change, no wake', () => {
  // Catches: a delete that tears down first and forgets last, so a wake in between (timer,
  // request) starts a worker that restores or creates the database again.
  const epoch = registry.beginLease('acme', 10_000, 1_000)
  registry.setState('acme', 'hibernated', { nextWakeAt: 100 })
  expect(registry.markDeleting('acme')).toBe(true)
  expect(() => registry.require('acme')).toThrow(expect.objectContaining({ code: 'TENANT_NOT_FOUND' }))
  expect(registry.dueTenants(10_000)).toEqual([])
  expect(() => registry.beginLease('acme', 10_000, 2_000)).toThrow(
    expect.objectContaining({ code: 'TENANT_NOT_FOUND' }),
  )
  expect(registry.renewLease('acme', epoch, 10_000, 2_000)).toBeNull()
  expect(registry.setWorker('acme', epoch, { url: 'http://x', pid: 1, startedAtMs: 2_000 })).toBe(false)
  registry.setState('acme', 'hibernated', { nextWakeAt: 100 })
  expect(registry.get('acme')?.state).toBe('deleting')
  expect(registry.deletingTenants()).toEqual(['acme'])
  expect(registry.markDeleting('nobody')).toBe(false)
})

test('a tenant created again under a deleted id is a new incarnation', () => {
  const first = registry.require('acme').incarnation
  expect(first).toMatch(/^[0-9a-f]{16}$/)
  registry.delete('acme')
  registry.createTenant({ id: 'acme', app: 'default', labels: {}, tokenHash: 'h9', state: 'hibernated', nowMs: 0 })
  expect(registry.require('acme').incarnation).not.toBe(first)
})

test('a duplicate tenant id is refused with TENANT_EXISTS', () => {
  expect(() =>
    registry.createTenant({ id: 'acme', app: 'default', labels: {}, tokenHash: 'h2', state: 'hibernated', nowMs: 0 }),
  ).toThrow(expect.objectContaining({ code: 'TENANT_EXISTS' }))
})

test('only hibernated tenants whose wake time has come are due', () => {
  registry.createTenant({ id: 'later', app: 'default', labels: {}, tokenHash: 'h3', state: 'hibernated', nowMs: 0 })
  registry.createTenant({ id: 'broken', app: 'default', labels: {}, tokenHash: 'h4', state: 'hibernated', nowMs: 0 })
  registry.setState('acme', 'hibernated', { nextWakeAt: 100 })
  registry.setState('later', 'hibernated', { nextWakeAt: 10_000 })
  registry.setState('broken', 'failed', { nextWakeAt: 50 })
  expect(registry.dueTenants(1_000)).toEqual(['acme'])
})

test('due tenants come earliest first, at most the limit asked, through the due index', () => {
  for (const [id, at] of [['c', 300], ['a', 100], ['b', 200]] as const) {
    registry.createTenant({ id, app: 'default', labels: {}, tokenHash: `h-${id}`, state: 'hibernated', nowMs: 0 })
    registry.setState(id, 'hibernated', { nextWakeAt: at })
  }
  expect(registry.dueTenants(1_000, 2)).toEqual(['a', 'b'])
  expect(registry.dueTenants(1_000)).toEqual(['a', 'b', 'c'])
  expect(queryPlan(dir, `SELECT id FROM cp_tenants INDEXED BY cp_tenants_due_at WHERE state = 'hibernated' AND next_wake_at <= 5 ORDER BY next_wake_at, id LIMIT 2`)).not.toMatch(/TEMP B-TREE/)
})

test('a label filter finds tenants through the label index, and a deleted tenant loses its labels', () => {
  registry.createTenant({ id: 'blue', app: 'default', labels: { team: 'ml', tier: 'gold' }, tokenHash: 'hb', state: 'hibernated', nowMs: 1 })
  registry.createTenant({ id: 'green', app: 'default', labels: { team: 'ml' }, tokenHash: 'hg', state: 'hibernated', nowMs: 2 })
  const ids = (labels: Record<string, string>) => registry.page({ labels }).tenants.map((tenant) => tenant.id)
  expect(ids({ team: 'ml' })).toEqual(['blue', 'green'])
  expect(ids({ team: 'ml', tier: 'gold' })).toEqual(['blue'])
  registry.delete('blue')
  expect(ids({ tier: 'gold' })).toEqual([])
  expect(queryPlan(dir, `SELECT tenant_id FROM cp_tenant_labels WHERE key = 'team' AND value = 'ml'`)).toMatch(/USING PRIMARY KEY|COVERING INDEX/)
  expect(queryPlan(dir, `SELECT id FROM cp_tenants WHERE state = 'active' ORDER BY created_at, id`)).toMatch(/cp_tenants_state/)
})

test('a registry from before the label table gets its labels indexed when opened', () => {
  registry.createTenant({ id: 'old', app: 'default', labels: { team: 'ops' }, tokenHash: 'ho', state: 'hibernated', nowMs: 1 })
  registry.close()
  const db = openSqlite(join(dir, 'registry.db'))
  db.exec('DROP TABLE cp_tenant_labels')
  db.close()
  registry = Registry.open(join(dir, 'registry.db'))
  expect(registry.page({ labels: { team: 'ops' } }).tenants.map((tenant) => tenant.id)).toEqual(['old'])
})

test('crashes are counted within the window only', () => {
  for (const nowMs of [0, 1_000, 2_000]) {
    registry.recordCrash('acme', { exitCode: 1, detail: 'x', nowMs, sinceMs: nowMs - 1_500 })
  }
  expect(registry.recordCrash('acme', { exitCode: 1, detail: 'x', nowMs: 2_500, sinceMs: 1_000 })).toBe(3)
})

test('after a restart, tenants left active become hibernated and due, keeping their lease', () => {
  registry.beginLease('acme', 10_000, 1_000)
  expect(registry.recoverAfterRestart(5_000)).toBe(1)
  const tenant = registry.require('acme')
  expect(tenant).toMatchObject({ state: 'hibernated', nextWakeAt: 5_000, leaseExpiresAt: 11_000 })
})

test('after a restart, only the worker holding the kept lease (epoch, secret, unexpired) may be adopted, once', () => {
  // Catches: adoption of a worker whose lease a replacement already took (two writers), of
  // one that cannot prove its secret, or after the lease ran out (its successor may write).
  const epoch = registry.beginLease('acme', 10_000, 1_000, 'secret-hash')
  registry.setWorker('acme', epoch, { url: 'http://old', pid: 7, startedAtMs: 1_000 })
  expect(registry.canAdopt('acme', epoch, 'secret-hash', 5_000)).toBe(false) // not recovered yet
  registry.recoverAfterRestart(5_000)
  expect(registry.canAdopt('acme', epoch, 'other-hash', 5_000)).toBe(false)
  expect(registry.canAdopt('acme', epoch - 1, 'secret-hash', 5_000)).toBe(false)
  expect(registry.canAdopt('acme', epoch, 'secret-hash', 11_000)).toBe(false) // lease ran out
  expect(registry.canAdopt('acme', epoch, 'secret-hash', 5_000)).toBe(true)
  const worker = { url: 'http://old', pid: 7, startedAtMs: 6_000 }
  expect(registry.adoptLease('acme', epoch, 'secret-hash', worker, 10_000, 6_000)).toBe(16_000)
  expect(registry.require('acme')).toMatchObject({ state: 'active', leaseExpiresAt: 16_000 })
  expect(registry.renewLease('acme', epoch, 10_000, 7_000)).toBe(17_000)
  // Adopted once: the tenant is no longer in its recovered form.
  expect(registry.adoptLease('acme', epoch, 'secret-hash', worker, 10_000, 7_000)).toBeNull()

  // A replacement's epoch ends the old worker's chance for good.
  registry.recoverAfterRestart(8_000)
  const next = registry.beginLease('acme', 10_000, 20_000, 'new-hash')
  registry.setState('acme', 'hibernated')
  expect(registry.canAdopt('acme', epoch, 'secret-hash', 21_000)).toBe(false)
  expect(registry.canAdopt('acme', next, 'new-hash', 21_000)).toBe(true)
  registry.markDeleting('acme')
  expect(registry.canAdopt('acme', next, 'new-hash', 21_000)).toBe(false)
})

test('after a restart, a fork reserved but never answered (starting, no lease yet) is deleted, not woken empty', () => {
  // Catches: a control plane that died between a fork's reservation and its restore point
  // coming back with the fork hibernated and due, so its first worker starts it empty.
  registry.createTenant({ id: 'fork', app: 'default', labels: {}, tokenHash: 'h2', state: 'starting', nowMs: 0 })
  registry.createTenant({ id: 'waking', app: 'default', labels: {}, tokenHash: 'h3', state: 'hibernated', nowMs: 0 })
  registry.beginLease('waking', 10_000, 1_000)
  expect(registry.recoverAfterRestart(5_000)).toBe(2)
  expect(registry.get('fork')).toMatchObject({ state: 'deleting', nextWakeAt: null })
  expect(registry.deletingTenants()).toEqual(['fork'])
  expect(registry.dueTenants(5_000)).toEqual(['waking'])
})

test('a tenant is found by its token hash, never by its token', () => {
  expect(registry.tenantIdByTokenHash('h1')).toBe('acme')
  expect(registry.tenantIdByTokenHash('nope')).toBeNull()
})

test('tenant pages follow creation order, filter by state and labels, and count every match', () => {
  for (let i = 1; i <= 5; i++) {
    registry.createTenant({
      id: `t${i}`,
      app: 'default',
      labels: { team: i % 2 === 0 ? 'ml' : 'infra', 'cost.center': `c${i}` },
      tokenHash: `t${i}`,
      state: i === 3 ? 'failed' : 'hibernated',
      nowMs: 1_000, // same creation time: the id breaks the tie
    })
  }
  const first = registry.page({ labels: {}, limit: 4 })
  expect(first.tenants.map((t) => t.id)).toEqual(['acme', 't1', 't2', 't3'])
  expect(first).toMatchObject({ hasMore: true, total: 6 })
  const last = first.tenants[3]!
  const second = registry.page({ labels: {}, limit: 4, after: { createdAt: last.createdAt, id: last.id } })
  expect(second.tenants.map((t) => t.id)).toEqual(['t4', 't5'])
  expect(second.hasMore).toBe(false)
  expect(registry.page({ labels: { team: 'ml' } }).tenants.map((t) => t.id)).toEqual(['t2', 't4'])
  expect(registry.page({ labels: { 'cost.center': 'c5' } }).tenants.map((t) => t.id)).toEqual(['t5'])
  expect(registry.page({ state: 'failed', labels: { team: 'infra' } })).toMatchObject({ total: 1, hasMore: false })
  expect(registry.countByState()).toEqual({ hibernated: 5, failed: 1 })
})

test('closing the registry and exiting the process never checkpoints (Litestream owns checkpoints)', async () => {
  // Catches: the registry connection's real close, deferred by libsql while its prepared
  // statements live and run by the native finalizers at a natural exit, checkpointing the WAL
  // into registry.db and deleting it behind the control plane's Litestream.
  const path = join(dir, 'closed-at-exit.db')
  const child = fileURLToPath(new URL('../testdata/registry-close/child.ts', import.meta.url))
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', import.meta.resolve('tsx'), child, path])
  const atClose = JSON.parse(stdout.trim()) as { walBytes: number }
  expect(atClose.walBytes).toBeGreaterThan(32)
  expect(statSync(`${path}-wal`, { throwIfNoEntry: false })?.size).toBe(atClose.walBytes)
})

test('a fork keeps its source until cleared, also in a registry that predates the column', () => {
  registry.setRestoreFrom('acme', { tenantId: 'lab', at: '2026-11-23T09:00:00.000Z' })
  expect(registry.require('acme').restoreFrom).toEqual({ tenantId: 'lab', at: '2026-11-23T09:00:00.000Z' })
  registry.setRestoreFrom('acme', null)
  expect(registry.require('acme').restoreFrom).toBeNull()

  const old = join(dir, 'old.db')
  const db = openSqlite(old)
  db.exec('CREATE TABLE cp_tenants (id TEXT PRIMARY KEY, app TEXT NOT NULL, labels TEXT NOT NULL, token_hash TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL, last_active_at INTEGER, next_wake_at INTEGER, epoch INTEGER NOT NULL DEFAULT 0, lease_expires_at INTEGER, worker_url TEXT, worker_pid INTEGER, worker_started_at INTEGER, failure_reason TEXT) STRICT')
  db.close()
  const upgraded = Registry.open(old)
  try {
    upgraded.createTenant({ id: 'fork', app: 'default', labels: {}, tokenHash: 'h9', state: 'hibernated', nowMs: 0 })
    upgraded.setRestoreFrom('fork', { tenantId: 'acme', at: '2026-11-23T09:00:00.000Z' })
    expect(upgraded.require('fork').restoreFrom?.tenantId).toBe('acme')
  } finally {
    upgraded.close()
  }
})

/** SQLite's query plan for `sql` on the registry file, as one line. */
function queryPlan(dir: string, sql: string): string {
  const db = openSqlite(join(dir, 'registry.db'))
  try {
    return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((row) => row.detail).join('; ')
  } finally {
    db.close()
  }
}
