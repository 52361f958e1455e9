import { execFileSync } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'libsql'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isReplicaError } from './replica-error.js'
import { openSqlite } from './sqlite-connection.js'
import { checkWalCommit, decodeIndexHeader, readLastCommit } from './wal-commit.js'

// Real SQLite files (libsql) and their real -wal/-shm: the commit position must be exactly
// where the commit frame ends in the WAL, or the watcher would confirm too early (too
// small) or never (too big).
describe('readLastCommit', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'litecell-wal-commit-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const walSalt = (path: string): string =>
    readFileSync(`${path}-wal`).subarray(16, 24).toString('hex')

  // Catches: reading the -shm through a descriptor that is then closed. Closing any
  // descriptor of a file drops every fcntl lock this process holds on it, SQLite's wal-index
  // locks among them: another process (Litestream) then resets the WAL under a reader of
  // ours, or re-initialises the -shm it has mapped (SIGBUS). Seen as both (issue 11).
  it('keeps the SQLite locks this process holds on the wal-index', () => {
    const path = join(dir, 'locks.db')
    const db = openSqlite(path)
    db.exec('CREATE TABLE t (x BLOB)')
    for (let i = 0; i < 20; i++) db.prepare('INSERT INTO t VALUES (randomblob(500))').run()
    // A read transaction holds a read mark: nobody may restart or truncate the WAL under it.
    db.exec('BEGIN')
    db.prepare('SELECT count(*) AS n FROM t').get()
    for (let i = 0; i < 3; i++) readLastCommit(path)
    const script = `
      const Database = require('libsql')
      const db = new Database(${JSON.stringify(path)})
      db.exec('PRAGMA busy_timeout = 0')
      console.log(JSON.stringify(db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get()))
    `
    const out = execFileSync(process.execPath, ['-e', script], { cwd: import.meta.dirname })
    // busy = 1: the other process had to leave the WAL alone while our reader holds it.
    expect(JSON.parse(out.toString())).toMatchObject({ busy: 1 })
    db.exec('COMMIT')
    db.close()
  })

  it('ends each commit where its last frame ends in the WAL, in the WAL header lifetime', () => {
    const path = join(dir, 'a.db')
    const db = openSqlite(path)
    db.exec('CREATE TABLE t (x BLOB)')
    const offsets: number[] = []
    for (const bytes of [10, 5_000, 20_000, 1]) {
      db.prepare('INSERT INTO t VALUES (randomblob(?))').run(bytes)
      const commit = readLastCommit(path)
      // A fresh WAL is only appended to: its size is the end of the last commit.
      expect(commit.offset).toBe(statSync(`${path}-wal`).size)
      expect(commit.salt).toBe(walSalt(path))
      expect(commit.pageSize).toBe(4096)
      offsets.push(commit.offset)
    }
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b))
    db.close()
  })

  it('starts a new lifetime (new salt, small offset) after the WAL restarts', () => {
    const path = join(dir, 'b.db')
    const db = openSqlite(path)
    db.exec('CREATE TABLE t (x BLOB)')
    db.prepare('INSERT INTO t VALUES (randomblob(50000))').run()
    const before = readLastCommit(path)
    db.pragma('wal_checkpoint(RESTART)')
    const checkpointed = readLastCommit(path)
    expect(checkpointed.salt).toBe(before.salt) // restarted only by the next writer
    db.prepare('INSERT INTO t VALUES (1)').run()
    const after = readLastCommit(path)
    expect(after.salt).not.toBe(before.salt)
    expect(after.salt).toBe(walSalt(path))
    expect(after.offset).toBeLessThan(before.offset)
    expect(after.offset).toBe(32 + 1 * (4096 + 24)) // one page changed: one frame
    db.close()
  })

  it('decodes a 64 KiB page size (stored as 1 in the wal-index)', () => {
    const path = join(dir, 'c.db')
    const raw = new Database(path)
    raw.pragma('page_size = 65536')
    raw.pragma('journal_mode = WAL')
    raw.exec('CREATE TABLE t (x)')
    const commit = readLastCommit(path)
    expect(commit.pageSize).toBe(65536)
    expect(commit.offset).toBe(statSync(`${path}-wal`).size)
    raw.close()
  })

  it('reports 0 once every frame of the lifetime is gone (truncated WAL)', () => {
    const path = join(dir, 'd.db')
    const db = openSqlite(path)
    db.exec('CREATE TABLE t (x)')
    db.pragma('wal_checkpoint(TRUNCATE)')
    expect(readLastCommit(path).offset).toBe(0)
    db.close()
  })

  it('refuses a torn or uninitialized wal-index header', () => {
    const path = join(dir, 'e.db')
    const db = openSqlite(path)
    db.exec('CREATE TABLE t (x)')
    const header = readFileSync(`${path}-shm`).subarray(0, 96)
    expect(decodeIndexHeader(Buffer.from(header))).not.toBeNull()
    const torn = Buffer.from(header)
    torn.writeUInt32LE(torn.readUInt32LE(16) + 1, 16) // copy 0 moved on, copy 1 not yet
    expect(decodeIndexHeader(torn)).toBeNull()
    const badSum = Buffer.from(header)
    for (const at of [16, 64]) badSum.writeUInt32LE(badSum.readUInt32LE(at) + 1, at)
    expect(decodeIndexHeader(badSum)).toBeNull()
    const uninitialized = Buffer.from(header)
    uninitialized[12] = 0
    uninitialized[60] = 0
    expect(decodeIndexHeader(uninitialized)).toBeNull()
    db.close()
  })

  it('fails with INVALID_CONFIG when no connection holds the database in WAL mode', () => {
    const err = (() => {
      try {
        readLastCommit(join(dir, 'missing.db'))
      } catch (caught) {
        return caught
      }
    })()
    expect(isReplicaError(err) && err.code).toBe('INVALID_CONFIG')
  })

  it('rejects values that are not commit positions, quoting them', () => {
    expect(() => checkWalCommit({ salt: 'x', offset: 1, pageSize: 4096 })).toThrow(
      /got `\{"salt":"x"/,
    )
    expect(() => checkWalCommit(null)).toThrow(TypeError)
    expect(checkWalCommit({ salt: '0011223344556677', offset: 0, pageSize: 4096 }).offset).toBe(0)
  })
})
