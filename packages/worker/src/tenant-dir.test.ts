import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { INCARNATION_FILE, claimTenantDir } from './tenant-dir.js'

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
