/**
 * Invariant 6, what needs real HTTP and processes: bodies over 1 MiB get 413 and the
 * connection stays usable, bad requests proxied to a real worker get their 4xx, and after all
 * of it the server process is up, logged no 5xx and still has its data. The full matrix (ids,
 * bodies, fields, names, conflicts, `/query` refusals, SQL as data) runs in-process in
 * `test/in-process/bad-input-gets-4xx.test.ts`.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import {
  createTenant,
  expectApiError,
  query,
  tenantIds,
  useServer,
  waitForRuns,
} from '@litecell/testkit/e2e'

const TENANT = 'data'
const T = `/v1/tenants/${TENANT}`
/** The ledger rows written at setup; nothing below may change them. */
const ENTRIES = ['first', 'second', 'third']
const LONG_SLEEP_MS = 10 * 60_000

// A long idle time keeps the worker up: this file is about validation, not wakes.
const server = useServer({ env: { LITECELL_IDLE_MS: '120000' } })
/** Runs of the tenant in known states. */
const runs = { succeeded: '', sleeping: '' }
/** How many runs the tenant has after setup plus what the tests started on purpose. */
let expectedRunCount = 0
/** The tenant's worker process: bad input must not have replaced it. */
let workerPid = 0

beforeAll(async () => {
  await createTenant(server.admin, TENANT)
  const { runIds } = await server.admin.post<any>(`${T}/runs/batch`, {
    runs: ENTRIES.map((entry) => ({ workflow: 'write', input: { entry } })),
  })
  await waitForRuns(server.admin, TENANT, runIds)
  runs.succeeded = runIds[0]
  runs.sleeping = (
    await server.admin.post<any>(`${T}/runs`, { workflow: 'sleeper', input: { ms: LONG_SLEEP_MS } })
  ).runId
  expectedRunCount = ENTRIES.length + 1
  workerPid = (await server.admin.get<any>(T)).worker.pid
})

function tenantFolders(): string[] {
  return readdirSync(join(server.dataDir, 'tenants')).sort()
}

async function runCount(): Promise<number> {
  const { runs: page } = await server.admin.get<any>(`${T}/runs?limit=1000`)
  return page.length
}

async function ledger(): Promise<string[]> {
  return (await query(server.admin, TENANT, 'SELECT entry FROM ledger ORDER BY rowid')).map(
    (row) => row.entry,
  )
}

describe('bad requests proxied to a real worker get their 4xx', () => {
  test('a malformed body, a wrong field, an unknown workflow, an unknown run, a refused write', async () => {
    expectApiError(
      await server.admin.send<any>('POST', `${T}/runs`, { rawBody: '{"workflow": ' }),
      400,
      undefined,
      'JSON',
    )
    expectApiError(
      await server.admin.send<any>('POST', `${T}/runs/batch`, { body: { runs: [] } }),
      400,
      undefined,
      '`runs`',
    )
    expectApiError(
      await server.admin.send<any>('POST', `${T}/runs`, { body: { workflow: 'nope' } }),
      400,
      'UNKNOWN_WORKFLOW',
    )
    expectApiError(
      await server.admin.send<any>('GET', `${T}/runs/${encodeURIComponent("x' OR '1'='1")}`),
      404,
      'RUN_NOT_FOUND',
    )
    expectApiError(
      await server.admin.send<any>('POST', `${T}/query`, { body: { sql: 'DELETE FROM ledger' } }),
      400,
    )
    expectApiError(
      await server.admin.send<any>('POST', `${T}/runs/${runs.succeeded}/cancel`),
      409,
      'INVALID_STATE',
    )
    expectApiError(
      await server.admin.send<any>('GET', '/v1/tenants/..%2Fetc/runs'),
      400,
      'INVALID_TENANT_ID',
    )
    expect(await runCount()).toBe(expectedRunCount)
    expect(await ledger()).toEqual(ENTRIES)
  })
})

/**
 * Sends a body of `bytes` bytes over its own keep-alive connection (a pool of one socket),
 * so an oversized request cannot disturb other tests' connections.
 */
function oversized(
  agent: Agent,
  path: string,
  bytes: number,
): Promise<{ status: number; body: any }> {
  const body = JSON.stringify({ id: 'too-big', workflow: 'quick', input: 'x'.repeat(bytes) })
  return send(agent, 'POST', path, body)
}

function send(
  agent: Agent,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; body: any }> {
  return new Promise((resolveReply, reject) => {
    const req = request(
      `${server.url}${path}`,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${server.adminToken}`,
          'content-type': 'application/json',
        },
      },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (text += chunk))
        response.on('end', () => {
          let parsed: unknown = text
          try {
            parsed = JSON.parse(text)
          } catch {
            // keep the text
          }
          resolveReply({ status: response.statusCode ?? 0, body: parsed })
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

describe('bodies over 1 MiB get 413', () => {
  const MIB = 1024 * 1024

  test.each([
    { route: 'POST /v1/tenants', path: '/v1/tenants' },
    { route: 'POST /v1/tenants/:id/runs', path: `${T}/runs` },
    { route: 'POST /v1/tenants/:id/query', path: `${T}/query` },
  ])('$route with a 1 MiB + 1 KiB body → 413 BODY_TOO_LARGE, nothing created', async ({ path }) => {
    const agent = new Agent({ keepAlive: false, maxSockets: 1 })
    try {
      const reply = await oversized(agent, path, MIB + 1024)
      expectApiError(reply, 413, 'BODY_TOO_LARGE')
    } finally {
      agent.destroy()
    }
    expect(await tenantIds(server.admin)).toEqual([TENANT])
    expect(await runCount()).toBe(expectedRunCount)
  })

  test('a body just under 1 MiB is read (and refused only for its content)', async () => {
    const reply = await server.admin.send<any>('POST', `${T}/runs`, {
      body: { workflow: 'nope', input: 'x'.repeat(MIB - 1024) },
    })
    expectApiError(reply, 400, 'UNKNOWN_WORKFLOW')
  })

  // The body is left unread, so the 413 closes the connection (`Connection: close`).
  test('after a 413 the client can go on with its next request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const reply = await oversized(agent, '/v1/tenants', MIB + 1024)
      expect(reply.status).toBe(413)
      const health = await send(agent, 'GET', '/v1/health')
      expect(health).toEqual({ status: 200, body: { ok: true } })
    } finally {
      agent.destroy()
    }
  })
})

describe('after all of it', () => {
  test('the server is still running and healthy, and its data is intact', async () => {
    expect(server.process.exitCode).toBeNull()
    expect(server.process.signalCode).toBeNull()
    expect(await server.admin.send<any>('GET', '/v1/health')).toMatchObject({
      status: 200,
      body: { ok: true },
    })
    // The tenant's worker too: the same process serves it, with its data and its sleeping run.
    expect(tenantFolders()).toEqual([TENANT])
    const tenant = await server.admin.get<any>(T)
    expect(tenant).toMatchObject({ state: 'active', worker: { pid: workerPid } })
    expect(await ledger()).toEqual(ENTRIES)
    expect(await runCount()).toBe(expectedRunCount)
    expect((await server.admin.get<any>(`${T}/runs/${runs.sleeping}`)).status).toBe('sleeping')
  })

  test('no request made the server fail: no 5xx was logged', () => {
    const log = readFileSync(join(server.dataDir, 'logs', 'control-plane.log'), 'utf8')
    expect(log).not.toContain('request failed')
  })
})
