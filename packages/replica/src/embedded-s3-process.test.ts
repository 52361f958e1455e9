import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { waitFor } from '@litecell/testkit/replica'
import { startEmbeddedS3, type EmbeddedS3 } from './embedded-s3.js'
import { startEmbeddedS3Process } from './embedded-s3-process.js'
import { openReplicaStore } from './store-access.js'

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'litecell-s3proc-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** Whether `pid` runs (a zombie counts as gone). */
function isAlive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** The pid of the server process serving the folder `dir`, read from /proc. */
function serverPidOf(dir: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      if (argv[1]?.endsWith('embedded-s3-server.mjs') && argv[2]?.includes(JSON.stringify(dir)))
        return Number(entry)
    } catch {
      // ended while we looked
    }
  }
  throw new Error(`no server process for ${dir}`)
}

async function roundTrip(s3: EmbeddedS3, key: string): Promise<string[]> {
  const store = await openReplicaStore(s3.storage())
  try {
    return (await store.list(key)).map((object) => object.key)
  } finally {
    store.close()
  }
}

describe('embedded S3 in a process of its own', () => {
  it('serves the bucket from another process, and stops it', async () => {
    const dir = tempDir()
    const s3 = await startEmbeddedS3Process({ dir })
    const pid = serverPidOf(dir)
    expect(pid).not.toBe(process.pid)
    expect(s3.endpoint).toBe(`http://127.0.0.1:${s3.port}`)
    expect(await roundTrip(s3, 'nothing/')).toEqual([])
    await s3.stop()
    expect(isAlive(pid)).toBe(false)
  })

  it('starts again on the same port, with its data, when its process is killed', async () => {
    const dir = tempDir()
    const restarts: string[] = []
    const s3 = await startEmbeddedS3Process({ dir, onRestart: (reason) => restarts.push(reason) })
    try {
      // An object written through the first process is there after the second starts.
      const first = serverPidOf(dir)
      const { PutObjectCommand, S3Client } = await import('@aws-sdk/client-s3')
      const { s3ClientConfig } = await import('./s3-client.js')
      const client = new S3Client(s3ClientConfig(s3.storage()))
      await client.send(new PutObjectCommand({ Bucket: 'litecell', Key: 'kept/a', Body: 'x' }))
      process.kill(first, 'SIGKILL')
      await waitFor(async () => (await roundTrip(s3, 'kept/').catch(() => [])).length === 1, {
        timeoutMs: 15_000,
        what: 'the server to be back with its object',
      })
      client.destroy()
      expect(serverPidOf(dir)).not.toBe(first)
      expect(restarts[0]).toMatch(/exited \(SIGKILL\); starting it again/)
    } finally {
      await s3.stop()
    }
  })

  it('ends when the process that started it is SIGKILLed', async () => {
    // A parent of its own (through tsx, as the sources run) that starts the server and waits.
    const dir = tempDir()
    const script = `
      const { startEmbeddedS3Process } = await import(${JSON.stringify(new URL('./embedded-s3-process.ts', import.meta.url).href)})
      const s3 = await startEmbeddedS3Process({ dir: ${JSON.stringify(dir)} })
      console.log(String(s3.port))
      setInterval(() => {}, 1000)
    `
    const parent = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    let pid: number | undefined
    try {
      await new Promise<void>((resolve, reject) => {
        parent.stdout.once('data', () => resolve())
        parent.once('exit', (code) => reject(new Error(`parent exited ${code}`)))
      })
      pid = serverPidOf(dir)
      parent.kill('SIGKILL')
      const server = pid
      await waitFor(() => !isAlive(server), {
        timeoutMs: 5_000,
        what: 'the orphaned server to exit',
      })
    } finally {
      // A failure above must not leave either process behind.
      parent.kill('SIGKILL')
      if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL')
    }
  })

  it('fails with a clear error when the port is taken', async () => {
    const taken = await startEmbeddedS3({ dir: tempDir() })
    try {
      await expect(
        startEmbeddedS3Process({ dir: tempDir(), port: taken.port }),
      ).rejects.toMatchObject({
        code: 'STORAGE_UNAVAILABLE',
        message: expect.stringMatching(new RegExp(`127.0.0.1:${taken.port}.*EADDRINUSE`)),
      })
    } finally {
      await taken.stop()
    }
  })
})
