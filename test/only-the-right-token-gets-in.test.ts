/**
 * Invariant 7, what needs real processes: tokens reach the workers only as far as they must
 * and are stored hashed only (never in the registry, a file of the data dir, a log or the
 * server's output), the dashboard page carries no token, and metrics come from real
 * heartbeats. The route matrix (every route with every kind of credential: 401, 403, allowed)
 * runs in-process in `test/in-process/only-the-right-token-gets-in.test.ts`; here a few of
 * its requests go through the real proxy to a real worker.
 */
import { waitFor } from '@litecell/testkit'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import {
  callRaw,
  createTenant,
  type RawReply,
  tenantIds,
  useServer,
  waitForRuns,
} from '@litecell/testkit/e2e'

/** The subject tenant, and the tenant whose token must not reach it. */
const OWN = 'alpha'
const OTHER = 'beta'
const ADMIN = 'lca_test-admin-token'

// A long idle time keeps the tenants' workers up: this file is about auth, not wakes.
const server = useServer({ env: { LITECELL_IDLE_MS: '120000' } })
/** Every token this file was given, by tenant id (a re-created id keeps a list). */
const minted: { id: string; token: string }[] = []
const tokens = { own: '', other: '' }

beforeAll(async () => {
  tokens.own = (await mint(OWN)).token
  tokens.other = (await mint(OTHER)).token
})

async function mint(id: string): Promise<{ id: string; token: string }> {
  const created = await createTenant(server.admin, id)
  minted.push(created)
  return created
}

/** One request with exactly the given Authorization header (or none). */
function call(
  method: string,
  path: string,
  authorization: string | undefined,
  body?: unknown,
): Promise<RawReply> {
  return callRaw(server, method, path, authorization, body)
}

const bearer = (token: string) => `Bearer ${token}`

describe('through the real proxy to real workers', () => {
  test("the tenant's own token runs, reads and queries its tenant; another token or none does not", async () => {
    const started = await call('POST', `/v1/tenants/${OWN}/runs`, bearer(tokens.own), {
      workflow: 'quick',
      input: { n: 1 },
    })
    expect(started.status, started.text).toBe(202)
    await waitForRuns(server.admin, OWN, [started.body.runId])
    const run = await call(
      'GET',
      `/v1/tenants/${OWN}/runs/${started.body.runId}`,
      bearer(tokens.own),
    )
    expect(run.body).toMatchObject({ status: 'succeeded', output: 2 })
    const rows = await call('POST', `/v1/tenants/${OWN}/query`, bearer(tokens.own), {
      sql: 'SELECT count(*) AS runs FROM lc_runs',
    })
    expect(rows.body.rows).toEqual([{ runs: 1 }])
    const snapshot = await call('GET', `/v1/tenants/${OWN}/snapshot`, bearer(tokens.own))
    expect(snapshot.text.startsWith('SQLite format 3')).toBe(true)

    expect((await call('GET', `/v1/tenants/${OWN}/runs`, bearer(tokens.other))).status).toBe(403)
    expect(
      (await call('POST', `/v1/tenants/${OWN}/query`, undefined, { sql: 'SELECT 1' })).status,
    ).toBe(401)
    expect((await call('POST', `/v1/tenants/${OWN}/hibernate`, bearer(tokens.own))).status).toBe(
      403,
    )
    expect((await server.admin.get<any>(`/v1/tenants/${OTHER}/runs`)).runs).toEqual([])
  })

  test('forks and re-created ids get new tokens; a deleted tenant’s token stops working', async () => {
    const forked = await call('POST', `/v1/tenants/${OWN}/fork`, bearer(ADMIN), { id: 'offspring' })
    expect(forked.status, forked.text).toBe(201)
    minted.push({ id: 'offspring', token: forked.body.token })
    expect(
      (await call('GET', '/v1/tenants/offspring/runs', bearer(forked.body.token))).status,
    ).toBe(200)
    expect((await call('GET', `/v1/tenants/${OWN}/runs`, bearer(forked.body.token))).status).toBe(
      403,
    )

    const first = await mint('phoenix')
    await server.admin.delete<any>('/v1/tenants/phoenix')
    const second = await mint('phoenix')
    expect((await call('GET', '/v1/tenants/phoenix', bearer(first.token))).status).toBe(401)
    expect((await call('GET', '/v1/tenants/phoenix', bearer(second.token))).status).toBe(200)
  })
})

describe('routes outside the tenant API', () => {
  test('GET / serves the dashboard without a token (it signs in by itself), with its CSP', async () => {
    const reply = await call('GET', '/', undefined)
    expect(reply.status).toBe(200)
    expect(reply.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(reply.text).not.toContain('lca_')
  })

  test('GET /metrics counts runs from the workers’ heartbeats, for the admin token only', async () => {
    // Run counts arrive with the workers' heartbeats.
    await waitFor(async () =>
      /^litecell_runs_total\{status="succeeded"\} [1-9]/m.test(
        (await call('GET', '/metrics', bearer(ADMIN))).text,
      ),
    )
    expect((await call('GET', '/metrics', undefined)).status).toBe(401)
    expect((await call('GET', '/metrics', bearer(tokens.own))).status).toBe(403)
  })
})

/** Opens a SQLite file read-only with the control plane's own driver. */
interface ReadOnlyDatabase {
  prepare(sql: string): { all(...args: unknown[]): Record<string, unknown>[] }
  close(): void
}
function openReadOnly(path: string): ReadOnlyDatabase {
  const require = createRequire(
    resolve(import.meta.dirname, '../packages/control-plane/package.json'),
  )
  const Database = require('libsql') as new (
    path: string,
    options: { readonly: boolean },
  ) => ReadOnlyDatabase
  return new Database(path, { readonly: true })
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path, { throwIfNoEntry: false })?.isFile())
}

/** A file's bytes, or none if it went away since it was listed (Litestream's temp files do). */
function readIfPresent(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0)
    throw err
  }
}

describe('tokens are stored hashed', () => {
  const sha256 = (token: string) => createHash('sha256').update(token).digest('hex')

  test('the registry holds the SHA-256 of each tenant token and no token itself', async () => {
    const live = await tenantIds(server.admin)
    const latest = new Map(minted.map((m) => [m.id, m.token]))
    const db = openReadOnly(join(server.dataDir, 'registry.db'))
    let rows: Record<string, unknown>[]
    try {
      rows = db.prepare('SELECT * FROM cp_tenants ORDER BY id').all()
    } finally {
      db.close()
    }
    expect(rows.map((row) => row.id)).toEqual(live)
    for (const row of rows) {
      const token = latest.get(row.id as string)
      expect(token, `a token for ${String(row.id)}`).toBeDefined()
      expect(row.token_hash).toBe(sha256(token!))
    }
    const everything = JSON.stringify(rows)
    for (const { token } of minted) expect(everything).not.toContain(token)
    expect(everything).not.toContain(ADMIN)
  })

  test('no plaintext token appears in the registry files, the logs or anywhere else in the data dir', () => {
    const secrets = [ADMIN, ...minted.map((m) => m.token)]
    const files = filesUnder(server.dataDir)
    expect(files).toContain(join(server.dataDir, 'registry.db'))
    const logs = files.filter(
      (path) => path.startsWith(join(server.dataDir, 'logs')) && path.endsWith('.log'),
    )
    expect(logs).toContain(join(server.dataDir, 'logs', 'control-plane.log'))
    expect(logs).toContain(join(server.dataDir, 'logs', `${OWN}.log`))
    for (const path of files) {
      const bytes = readIfPresent(path)
      for (const secret of secrets) {
        expect(bytes.includes(secret), `${secret.slice(0, 8)}… in ${path}`).toBe(false)
      }
    }
    // The server's own stdout/stderr: it prints nothing secret either (the admin token came
    // from the environment, so it is not shown).
    for (const secret of secrets) expect(server.output()).not.toContain(secret)
  })
})
