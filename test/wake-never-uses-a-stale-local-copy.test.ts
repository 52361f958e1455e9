/**
 * Issue 12: a wake on the machine that hibernated a tenant uses the file it kept instead of a
 * download, but never once the replica moved past it. Two data folders ("machines" A and B)
 * share one S3 server: A hibernates (keeping its copy), B wakes the tenant and writes, then A
 * wakes it again. Catches a wake that trusts A's copy: B's row would be missing.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { startEmbeddedS3, type EmbeddedS3 } from '@litecell/replica'
import { tempDir } from '@litecell/testkit'
import {
  createTenant,
  query,
  startTestServer,
  waitForRuns,
  type TestServer,
} from '@litecell/testkit/e2e'

let s3: EmbeddedS3
let workDir: string
let server: TestServer | undefined

beforeAll(async () => {
  workDir = tempDir('e2e')
  s3 = await startEmbeddedS3({ dir: join(workDir, 's3'), port: 0 })
})

afterAll(async () => {
  await server?.stop()
  await s3?.stop()
  if (workDir) rmSync(workDir, { recursive: true, force: true })
})

/** A `litecell serve` on data folder `name`, against the test's S3 server. */
function startOn(name: string): Promise<TestServer> {
  return startTestServer({
    dataDir: join(workDir, name),
    env: {
      LITECELL_S3_ENDPOINT: s3.endpoint,
      LITECELL_S3_BUCKET: 'litecell',
      LITECELL_S3_PREFIX: 'shared',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
    },
  })
}

async function write(on: TestServer, entry: string): Promise<void> {
  const { runId } = await on.admin.post<any>('/v1/tenants/moves/runs', {
    workflow: 'write',
    input: { entry },
  })
  const [run] = await waitForRuns(on.admin, 'moves', [runId])
  expect(run!.status).toBe('succeeded')
}

async function entries(on: TestServer): Promise<string[]> {
  return (await query(on.admin, 'moves', 'SELECT entry FROM ledger ORDER BY rowid')).map((row) =>
    String(row.entry),
  )
}

/** Where each wake of the tenant on that data folder took its file from (the worker's log). */
function wakeSources(on: TestServer): string[] {
  const log = join(on.dataDir, 'logs', 'moves.log')
  if (!existsSync(log)) return []
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"worker ready"'))
    .map((line) => (JSON.parse(line) as { source: string }).source)
}

test(
  'a wake uses the kept copy while the replica is unchanged, and the newer state once another machine wrote',
  { timeout: 300_000 },
  async () => {
    server = await startOn('a')
    await createTenant(server.admin, 'moves')
    await write(server, 'a-1')
    expect((await server.admin.post<any>('/v1/tenants/moves/hibernate')).state).toBe('hibernated')
    const tenantDir = join(server.dataDir, 'tenants', 'moves')
    // The live file is gone; only the verified copy stays.
    expect(readdirSync(tenantDir).sort()).toEqual(['hibernated', 'incarnation'])

    // Woken on the same machine, nothing changed in S3: the copy is used, no download.
    await write(server, 'a-2')
    expect(wakeSources(server).at(-1)).toBe('hibernated copy')
    expect((await server.stop()).code).toBe(0)
    expect(existsSync(join(tenantDir, 'hibernated'))).toBe(true)

    // Machine B: another data folder, the same S3. It restores the registry and the tenant, writes.
    server = await startOn('b')
    await write(server, 'b-1')
    expect(wakeSources(server).at(-1)).toBe('replica')
    expect(await entries(server)).toEqual(['a-1', 'a-2', 'b-1'])
    expect((await server.stop()).code).toBe(0)

    // Back on A: its copy holds a-1, a-2 only. The replica moved past it: the newer state wins.
    server = await startOn('a')
    expect(await entries(server)).toEqual(['a-1', 'a-2', 'b-1'])
    expect(wakeSources(server).at(-1)).toBe('replica (local copy was stale)')
  },
)
