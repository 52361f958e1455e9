import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { waitFor } from '@litecell/testkit'
import { openSqlite } from './sqlite-connection.js'
import { StallWatch } from './stall-watch.js'
import { writeSyncMarker } from './sync-marker.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A database with Litestream's sequence table, and a connection that can take its write lock. */
function database(): { path: string; lock: () => void; release: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'replica-stall-'))
  dirs.push(dir)
  const path = join(dir, 'tenant.db')
  const holder = openSqlite(path)
  holder.exec('CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER); CREATE TABLE t (x)')
  return {
    path,
    // A committed change (the WAL changes), then the write lock, held.
    lock: () => holder.exec('INSERT INTO t VALUES (0); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)'),
    release: () => {
      holder.exec('ROLLBACK')
      holder.close()
    },
  }
}

/** Longest gap between the ticks of a 10 ms interval while `during` runs: how long the loop was blocked. */
async function longestBlockMs(during: () => Promise<unknown>): Promise<number> {
  let last = performance.now()
  let longest = 0
  const ticker = setInterval(() => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
  }, 10)
  try {
    await during()
  } finally {
    clearInterval(ticker)
  }
  return longest
}

// Bounds: the busy timeout these replaced is 5 s; 2.5 s leaves a loaded machine room.
const BLOCK_BOUND_MS = 2_500

test('the stall watch never blocks the event loop while another connection holds the write lock', async () => {
  // Catches: a nudge that waits for the write lock with SQLite's busy timeout (5 s on the
  // worker's thread): the heartbeats stop meanwhile, and a late renewal fences the worker.
  const db = database()
  const notes: string[] = []
  const watch = new StallWatch(db.path, 1_000, (text) => notes.push(text))
  // The WAL changes after the watch began and nothing uploads it: a stall to nudge.
  await new Promise((resolve) => setTimeout(resolve, 20))
  db.lock()
  try {
    const blocked = await longestBlockMs(async () => {
      watch.start()
      await waitFor(() => notes.some((note) => note.startsWith('nudge skipped')), {
        timeoutMs: 20_000,
        what: 'the stall watch to try a nudge',
      })
    })
    expect(notes.find((note) => note.startsWith('nudge skipped'))).toMatch(/locked|busy/i)
    expect(blocked).toBeLessThan(BLOCK_BOUND_MS)
  } finally {
    watch.stop()
    db.release()
  }
})

test('the sync marker waits for the write lock without blocking the event loop, then commits', async () => {
  // Catches: a marker written through a busy timeout, which blocks the thread; when the lock
  // belongs to an engine batch of the same process, waiting to commit on this event loop, the
  // two wait for each other until the timeout.
  const db = database()
  db.lock()
  const written = writeSyncMarker(db.path)
  const blocked = await longestBlockMs(async () => {
    await new Promise((resolve) => setTimeout(resolve, 300))
    db.release()
    await written
  })
  const { marker } = await written
  expect(marker).toMatch(/^[0-9a-f-]{36}$/)
  expect(blocked).toBeLessThan(BLOCK_BOUND_MS)
})
