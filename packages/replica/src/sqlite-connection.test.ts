import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, expect, test } from 'vitest'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

test('connections of this package never checkpoint, not even at a natural process exit', async () => {
  // Catches: a connection whose real close (deferred by libsql while a prepared statement
  // lives, run by the native finalizers at exit) checkpoints the WAL and deletes it: only
  // Litestream may checkpoint. Fails without pinDatabase in openSqlite.
  const dir = mkdtempSync(join(tmpdir(), 'replica-sqlite-'))
  dirs.push(dir)
  const path = join(dir, 'tenant.db')
  const child = fileURLToPath(new URL('../testdata/sqlite-close/child.ts', import.meta.url))
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', import.meta.resolve('tsx'), child, path])
  const atClose = JSON.parse(stdout.trim()) as { walBytes: number }
  expect(atClose.walBytes).toBeGreaterThan(32)
  expect(statSync(`${path}-wal`, { throwIfNoEntry: false })?.size).toBe(atClose.walBytes)
})
