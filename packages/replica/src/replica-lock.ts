import { createHash, randomUUID } from 'node:crypto'
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ReplicaError } from './replica-error.js'
import type { ReplicaLocation } from './replica-location.js'

/** A lock file with no readable owner is taken over once it is this old (a crash mid-write). */
export const UNREADABLE_LOCK_STALE_MS = 10_000

interface LockOwner {
  readonly pid: number
  readonly token: string
  readonly holder: string
}

/**
 * An exclusive lock held by this process, backed by a file created with `O_EXCL` that
 * names the owning pid. A lock whose pid is gone (a crashed process) is taken over; a
 * live owner, including this very process, makes {@link ReplicaLock.acquire} throw
 * `REPLICA_PATH_BUSY`. Being a file, it also keeps a second process on this machine away,
 * and needs no process-wide registry.
 */
export class ReplicaLock {
  readonly #path: string
  readonly #token: string
  #released = false

  private constructor(path: string, token: string) {
    this.#path = path
    this.#token = token
  }

  /** Take the lock at `path`; `holder` describes the owner in the error others get. */
  static acquire(path: string, holder: string, what: string): ReplicaLock {
    const owner: LockOwner = { pid: process.pid, token: randomUUID(), holder }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600)
        try {
          writeSync(fd, JSON.stringify(owner))
        } finally {
          closeSync(fd)
        }
        return new ReplicaLock(path, owner.token)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const current = readOwner(path)
      if (current === 'missing') continue
      if (current !== 'unreadable' && isAlive(current.pid)) {
        const who = current.pid === process.pid ? 'this process' : `process ${current.pid}`
        throw new ReplicaError(
          'REPLICA_PATH_BUSY',
          `${what} is already replicated by ${who} (${current.holder})`,
          {
            hint: 'stop the running replicator first; two Litestream processes must never share a replica path',
          },
        )
      }
      if (current === 'unreadable' && ageMs(path) < UNREADABLE_LOCK_STALE_MS) {
        throw new ReplicaError(
          'REPLICA_PATH_BUSY',
          `${what} is being locked by another replicator`,
          {
            hint: `retry shortly; remove ${path} if no replicator runs`,
          },
        )
      }
      removeIfPresent(path)
    }
    throw new ReplicaError('REPLICA_PATH_BUSY', `${what}: lock ${path} keeps changing hands`)
  }

  /** Give the lock up (only if this instance still owns the file). Idempotent. */
  release(): void {
    if (this.#released) return
    this.#released = true
    const current = readOwner(this.#path)
    if (typeof current === 'object' && current.token === this.#token) removeIfPresent(this.#path)
  }
}

/**
 * The lock file of a replica path, in the machine's temp directory; named by a hash of
 * endpoint, bucket and path, so every process on this machine agrees on it.
 */
export function replicaLockPath(replica: ReplicaLocation): string {
  const { endpoint = 'aws', bucket } = replica.storage
  const hash = createHash('sha256')
    .update(`${endpoint}\n${bucket}\n${replica.path}`)
    .digest('hex')
    .slice(0, 32)
  const dir = join(tmpdir(), 'litecell-replica-locks')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  return join(dir, `${hash}.lock`)
}

/** The lock file of a database: one Litestream per SQLite file. */
export function databaseLockPath(dbPath: string): string {
  return `${dbPath}.replica-lock`
}

function readOwner(path: string): LockOwner | 'missing' | 'unreadable' {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
    throw err
  }
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>
    return typeof owner.pid === 'number' && typeof owner.token === 'string'
      ? { pid: owner.pid, token: owner.token, holder: String(owner.holder ?? '') }
      : 'unreadable'
  } catch {
    return 'unreadable'
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}
