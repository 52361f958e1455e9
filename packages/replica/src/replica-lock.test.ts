import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isReplicaError } from './replica-error.js'
import { ReplicaLock, replicaLockPath } from './replica-lock.js'

describe('ReplicaLock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'litecell-lock-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('is exclusive within a process and free again after release', () => {
    const path = join(dir, 'a.lock')
    const lock = ReplicaLock.acquire(path, 'first', 'thing a')
    const err = (() => {
      try {
        ReplicaLock.acquire(path, 'second', 'thing a')
      } catch (e) {
        return e
      }
    })()
    expect(isReplicaError(err) && err.code).toBe('REPLICA_PATH_BUSY')
    expect(String(err)).toMatch(/thing a is already replicated by this process \(first\)/)
    lock.release()
    lock.release()
    expect(existsSync(path)).toBe(false)
    ReplicaLock.acquire(path, 'second', 'thing a').release()
  })

  it('takes over a lock whose owner process is gone', () => {
    const path = join(dir, 'b.lock')
    // pid 2^22+1 is above Linux's pid_max, so no live process owns it.
    writeFileSync(path, JSON.stringify({ pid: 4_194_305, token: 'dead', holder: 'crashed' }))
    const lock = ReplicaLock.acquire(path, 'heir', 'thing b')
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({
      pid: process.pid,
      holder: 'heir',
    })
    lock.release()
  })

  it('derives one lock path per endpoint, bucket and replica path', () => {
    const storage = {
      bucket: 'litecell',
      prefix: '',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:1',
    }
    const a = replicaLockPath({ storage, path: 'tenants/a' })
    expect(replicaLockPath({ storage, path: 'tenants/a' })).toBe(a)
    expect(replicaLockPath({ storage, path: 'tenants/ab' })).not.toBe(a)
    expect(
      replicaLockPath({ storage: { ...storage, bucket: 'other' }, path: 'tenants/a' }),
    ).not.toBe(a)
  })
})
