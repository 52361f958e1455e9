import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { waitFor } from '@litecell/testkit'
import { LocalLauncher } from './local-launcher.js'

const dir = mkdtempSync(join(tmpdir(), 'litecell-launcher-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// A worker that, once assigned, leaves behind a process of its group that writes to its
// stdout after the worker has exited — as a worker's Litestream does during its final sync.
const FAKE_WORKER = `
import { spawn } from 'node:child_process'
process.once('message', () => {
  spawn(process.execPath, ['-e', "setTimeout(() => { for (let i = 0; i < 50; i++) console.log('late line ' + i) }, 300)"], {
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  console.log('worker says goodbye')
  process.exit(1)
})
`

it("keeps the lines a worker's group writes after the worker exited, and survives them", async () => {
  const script = join(dir, 'fake-worker.mjs')
  writeFileSync(script, FAKE_WORKER)
  const launcher = new LocalLauncher({
    workerNodeArgs: [script],
    tenantsDir: join(dir, 'tenants'),
    logsDir: join(dir, 'logs'),
    standbyWorkers: 0,
  })
  const logPath = join(dir, 'logs', 'acme.log')
  const worker = launcher.launch({
    logPath,
    settings: {
      tenantId: 'acme',
      epoch: 1,
      workerSecret: 'lcw_secret',
      controlUrl: 'http://127.0.0.1:1',
      appPath: script,
      storage: { endpoint: 'http://127.0.0.1:1', bucket: 'b', prefix: '', region: 'us-east-1' },
      idleMs: 1_000,
      leaseTtlMs: 5_000,
      syncIntervalMs: 1_000,
    },
  })
  expect((await worker.exited).code).toBe(1)
  // Before the fix the first late line was written to an ended stream: an unhandled 'error'
  // that ended this process (the control plane).
  await waitFor(() => readFileSync(logPath, 'utf8').includes('late line 49'), {
    timeoutMs: 10_000,
    what: 'the late lines in the log',
  })
  expect(readFileSync(logPath, 'utf8')).toContain('worker says goodbye')
})
