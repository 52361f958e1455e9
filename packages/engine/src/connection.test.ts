/**
 * Only Litestream checkpoints: closing an engine and then ending the process, naturally or
 * with process.exit, leaves the WAL with its frames and the database file as they were.
 *
 * Catches: a writer connection whose real close (deferred by libsql while its prepared
 * statements live, run by the native finalizers at a natural exit) checkpoints the WAL into
 * the database and deletes it. Without the pin in connection.ts the `natural` and `gc` cases
 * fail exactly so, as the `bare` control case shows for a plain connection.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanup, tempDir } from '@litecell/testkit/engine'

afterEach(cleanup)

const child = fileURLToPath(new URL('../testdata/close-never-checkpoints/child.ts', import.meta.url))
const PAGE_SIZE = 4096
const WAL_HEADER_BYTES = 32
const FRAME_HEADER_BYTES = 24

interface Report {
  dbSha256: string
  walBytes: number | null
}

/** Runs the child to its end; resolves with what it saw right after closing. */
async function runChild(kind: 'engine' | 'bare', path: string, exit: 'natural' | 'exit' | 'gc'): Promise<Report> {
  const args = ['--import', import.meta.resolve('tsx'), ...(exit === 'gc' ? ['--expose-gc'] : []), child, kind, path, exit]
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  proc.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve))
  expect(code, out).toBe(0)
  return JSON.parse(out.trim().split('\n').at(-1)!) as Report
}

function filesNow(path: string): Report {
  return {
    dbSha256: createHash('sha256').update(readFileSync(path)).digest('hex'),
    walBytes: statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? null,
  }
}

describe('closing the engine, then the process', () => {
  it.each([
    ['a natural exit', 'natural'],
    ['process.exit', 'exit'],
    ['garbage collections, then a natural exit', 'gc'],
  ] as const)(
    'keeps the WAL and its frames and leaves the database file alone (%s)',
    async (_, exit) => {
      const path = join(tempDir(), 'tenant.db')
      const atClose = await runChild('engine', path, exit)
      const frames = ((atClose.walBytes ?? 0) - WAL_HEADER_BYTES) / (PAGE_SIZE + FRAME_HEADER_BYTES)
      expect(frames).toBeGreaterThan(10)
      expect(filesNow(path)).toEqual(atClose)
    },
  )

  it('would be checkpointed at a natural exit without the pin (the control case)', async () => {
    const path = join(tempDir(), 'bare.db')
    const atClose = await runChild('bare', path, 'natural')
    expect(atClose.walBytes).toBeGreaterThan(WAL_HEADER_BYTES)
    expect(filesNow(path).walBytes).toBeNull()
  })
})
