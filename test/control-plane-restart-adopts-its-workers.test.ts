/**
 * A control-plane restart adopts its live workers (issue 9, item 10): SIGKILL the control
 * plane while a tenant runs a 10 s workflow, start it again on the same data folder and
 * address; the old worker's heartbeats reach the new control plane with their lease epoch,
 * which adopts the worker instead of refusing it. The run completes in the one worker that
 * began it, and no second worker for the tenant ever exists.
 *
 * Catches: (1) a worker that dies with its control plane (the standby's IPC `disconnect →
 * exit(0)` left in place after assignment); (2) a restarted control plane that forgets every
 * worker (`recoverAfterRestart` marking the tenant hibernated, so the old worker's next
 * heartbeat is refused `LEASE_LOST`, it fences, and a second worker starts once the lease has
 * run out): the run's result, its steps' pids, the registry's worker and a /proc sampling of
 * the processes holding the tenant's file would each name a second pid.
 * Run before the fix (main at 6eae381): failed at the first check, the worker was gone right
 * after the control plane's SIGKILL. With (1) fixed and adoption disabled (the launcher's
 * `adopt` answering undefined): failed on the registry's worker (epoch 2, another pid).
 */
import { readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { startEmbeddedS3, type EmbeddedS3 } from '@litecell/replica'
import { freePort, isAlive, pids, tempDir, waitFor } from '@litecell/testkit'
import { ReplicatorWatch, startTestServer, type TestServer } from '@litecell/testkit/e2e'

/**
 * Long enough for a loaded machine to start the second control plane before the worker fences
 * (a start took 10 s at load 5 on 2 cores; the worker fences 4 s before its lease ends).
 */
const LEASE_TTL_MS = 30_000
const STEPS = 10
const STEP_MS = 1_000

let s3: EmbeddedS3
let workDir = ''
let dataDir = ''
const servers: TestServer[] = []

beforeAll(async () => {
  workDir = tempDir('e2e')
  dataDir = join(workDir, 'data')
  s3 = await startEmbeddedS3({ dir: join(workDir, 's3'), port: 0 })
})

afterAll(async () => {
  for (const server of servers.reverse()) {
    await server.stop()
    await server.family.killAllAndWait()
  }
  await s3?.stop()
  if (workDir && !process.env.LITECELL_KEEP_DATA) rmSync(workDir, { recursive: true, force: true })
})

function start(port: number): Promise<TestServer> {
  return startTestServer({
    dataDir,
    port,
    env: {
      LITECELL_S3_ENDPOINT: s3.endpoint,
      LITECELL_S3_BUCKET: 'litecell',
      LITECELL_S3_PREFIX: 'adopt',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      LITECELL_IDLE_MS: '120000',
      LITECELL_LEASE_TTL_MS: String(LEASE_TTL_MS),
    },
  }).then((server) => (servers.push(server), server))
}

/** Pids (Litestream excepted) holding the tenant's database open: its workers. */
function workersOf(dbPath: string): number[] {
  const found: number[] = []
  for (const pid of pids()) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.endsWith('litestream')) continue
      const fds = readdirSync(`/proc/${pid}/fd`)
      if (fds.some((fd) => safeReadlink(`/proc/${pid}/fd/${fd}`) === dbPath)) found.push(pid)
    } catch {
      // ended while we looked, or not ours to read
    }
  }
  return found
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path)
  } catch {
    return undefined
  }
}

test('a restarted control plane adopts the worker running a 10 s workflow: the run completes in it, and no second worker ever existed', async () => {
  const port = await freePort()
  const first = await start(port)
  await first.admin.createTenant({ id: 'adopted', app: 'test' })
  const { runId } = await first.admin.startRun('adopted', {
    workflow: 'slowSteps',
    input: { steps: STEPS, stepMs: STEP_MS },
  })
  const before = await waitFor(async () => {
    const tenant = await first.admin.get<any>('/v1/tenants/adopted')
    return tenant.worker?.pid ? (tenant.worker as { pid: number; epoch: number }) : undefined
  })
  await waitFor(async () => (await first.admin.getRun('adopted', runId)).status === 'running')

  // Every process that ever held the tenant's file, sampled all along: one worker, ever.
  const dbPath = join(dataDir, 'tenants', 'adopted', 'tenant.db')
  const seen = new Set<number>(workersOf(dbPath))
  const sampler = setInterval(() => workersOf(dbPath).forEach((pid) => seen.add(pid)), 100)
  const replicators = new ReplicatorWatch(join(dataDir, 'tenants', 'adopted'))
  try {
    await first.stop({ signal: 'SIGKILL' })
    // The worker lives by its lease, not by its control plane.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(isAlive(before.pid), 'the worker outlived its control plane').toBe(true)

    const second = await start(port)
    const run = await second.admin.runResult('adopted', runId, { waitMs: 60_000 })
    expect(run.status).toBe('succeeded')
    expect(run.output).toEqual({ steps: STEPS, pid: before.pid })
    const detail = await second.admin.getRun('adopted', runId)
    const stepPids = new Set<unknown>()
    for (const step of detail.steps) {
      stepPids.add((await second.admin.getStep('adopted', runId, step.seq)).output)
    }
    expect([...stepPids]).toEqual([before.pid])

    const after = await second.admin.get<any>('/v1/tenants/adopted')
    expect(after.state).toBe('active')
    expect(after.worker).toMatchObject({ pid: before.pid, epoch: before.epoch })
    // The adopted worker keeps serving: a new run lands on it too.
    const next = await second.admin.startRun('adopted', { workflow: 'quick', input: { n: 1 } })
    expect((await second.admin.runResult('adopted', next.runId, { waitMs: 30_000 })).status).toBe('succeeded')
    expect([...seen]).toEqual([before.pid])
    const controlLog = readFileSync(join(dataDir, 'logs', 'control-plane.log'), 'utf8')
    expect(controlLog).toContain('adopted a worker a previous control plane launched')
    expect(replicators.most, `replicators seen at once: ${replicators.together}`).toBe(1)
  } finally {
    clearInterval(sampler)
    replicators.stop()
  }
})
