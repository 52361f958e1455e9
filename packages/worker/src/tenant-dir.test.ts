import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, test } from 'vitest'
import {
  INCARNATION_FILE,
  claimTenantDir,
  isTombstoneOf,
  removeTenantDir,
  retireTenantDir,
  sweepTombstones,
} from './tenant-dir.js'

let root: string
let dir: string
const OLD = '0000000000000001'
const NEW = '0000000000000002'

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tenant-dir-'))
  dir = join(root, 'acme')
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

/** A folder as a worker of incarnation `mark` (none: unmarked) left it, with a database. */
function leftBehind(mark: string | null): void {
  mkdirSync(dir, { recursive: true })
  if (mark) writeFileSync(join(dir, INCARNATION_FILE), mark)
  writeFileSync(join(dir, 'tenant.db'), 'old state')
}

test("a folder of an older incarnation is refused: the new tenant never sees the old one's file", async () => {
  // Catches: a worker that trusts any tenant.db it finds, so a tenant created again under a
  // deleted id starts from the deleted tenant's data.
  leftBehind(OLD)
  expect(await claimTenantDir(dir, NEW)).toBe(true)
  expect(existsSync(join(dir, 'tenant.db'))).toBe(false)
  expect(readFileSync(join(dir, INCARNATION_FILE), 'utf8')).toBe(NEW)
})

test('an unmarked folder is refused too (it cannot prove it is this incarnation)', async () => {
  leftBehind(null)
  expect(await claimTenantDir(dir, NEW)).toBe(true)
  expect(existsSync(join(dir, 'tenant.db'))).toBe(false)
})

test("the incarnation's own folder is kept as it is (a crash's files recover from it)", async () => {
  leftBehind(NEW)
  expect(await claimTenantDir(dir, NEW)).toBe(false)
  expect(readFileSync(join(dir, 'tenant.db'), 'utf8')).toBe('old state')
})

test('with no incarnation (a tenant from before them) the folder is taken as it is', async () => {
  leftBehind(null)
  expect(await claimTenantDir(dir, undefined)).toBe(false)
  expect(existsSync(join(dir, 'tenant.db'))).toBe(true)
})

test('teardown leaves neither the folder nor its tombstone behind', async () => {
  // The atomic step itself (the rename a crash cannot split) is not observable here without
  // killing the process inside `rm`; the test below covers what such a crash leaves.
  leftBehind(NEW)
  writeFileSync(join(dir, 'tenant.db-wal'), 'newest commits')
  await removeTenantDir(dir)
  expect(existsSync(dir)).toBe(false)
  expect(readdirSync(root)).toEqual([])
})

test('tombstones a crash left are swept and never read; the tenant folder is left alone', async () => {
  // A crash between the rename and the delete: the tombstone holds tenant.db without its WAL.
  const tombstone = join(root, '.acme.tombstone-0123456789ab')
  mkdirSync(tombstone)
  writeFileSync(join(tombstone, 'tenant.db'), 'stale')
  expect(isTombstoneOf(dir, '.acme.tombstone-0123456789ab')).toBe(true)
  expect(isTombstoneOf(dir, 'acme')).toBe(false)
  // Another tenant's tombstone is not this one's to sweep.
  expect(isTombstoneOf(dir, '.acme-2.tombstone-0123456789ab')).toBe(false)
  leftBehind(NEW)
  expect(await sweepTombstones(dir)).toBe(1)
  expect(existsSync(tombstone)).toBe(false)
  expect(readFileSync(join(dir, 'tenant.db'), 'utf8')).toBe('old state')
  // A new incarnation never takes anything from a tombstone either: it starts from nothing.
  expect(await claimTenantDir(join(root, 'other'), NEW)).toBe(false)
})

test("a hibernation's kept copy stays only in a fresh folder marked with its incarnation", async () => {
  // Catches: a kept copy left in an unmarked folder or beside the live files (a wake of
  // another incarnation could then trust it), and tombstones left behind by a retirement.
  leftBehind(NEW)
  writeFileSync(join(dir, 'tenant.db-wal'), 'live wal')
  const kept = await retireTenantDir(dir, NEW, async (retired) => {
    mkdirSync(join(dir, 'hibernated'))
    writeFileSync(join(dir, 'hibernated', 'tenant.db'), readFileSync(join(retired, 'tenant.db')))
    return true
  })
  expect(kept).toBe(true)
  expect(readdirSync(root)).toEqual(['acme'])
  expect(readdirSync(dir).sort()).toEqual(['hibernated', INCARNATION_FILE])
  expect(readFileSync(join(dir, INCARNATION_FILE), 'utf8')).toBe(NEW)

  // The next worker of the same incarnation sweeps nothing of it; one of another refuses it.
  expect(await sweepTombstones(dir)).toBe(0)
  expect(await claimTenantDir(dir, NEW)).toBe(false)
  expect(existsSync(join(dir, 'hibernated', 'tenant.db'))).toBe(true)
  expect(await claimTenantDir(dir, OLD)).toBe(true)
  expect(readdirSync(dir)).toEqual([INCARNATION_FILE])
})

test('a retirement that keeps nothing leaves no folder at all', async () => {
  leftBehind(NEW)
  expect(await retireTenantDir(dir, NEW, async () => false)).toBe(false)
  expect(readdirSync(root)).toEqual([])
})
