/**
 * The end-to-end tests' harness: one `useServer()` per test file (a real `litecell serve`
 * started before the file's tests and stopped after them), and the few helpers every file
 * needs on top of `@litecell/client`.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { LitecellClient, RunDetail } from '@litecell/client'
import { afterAll, beforeAll, expect } from 'vitest'
import { LitecellServer, REPO_ROOT, type LitecellServerOptions } from './litecell-server.js'
import { waitFor } from './wait-for.js'

export { OutageS3 } from './outage-s3.js'
export { ReplicatorWatch } from './replicator-watch.js'

/** The admin token of test servers. */
export const TEST_ADMIN_TOKEN = 'lca_test-admin-token'
/** The test app (`test/apps/test-app.ts`), registered as app `test`. */
export const TEST_APP_PATH = join(REPO_ROOT, 'test/apps/test-app.ts')

/** A started test server. */
export type TestServer = LitecellServer

/**
 * Starts `litecell serve` with the test defaults: short idle and lease times, a 200 ms sync
 * interval, the test app as `test`, and the {@link TEST_ADMIN_TOKEN}; `env` overrides them.
 */
export function startTestServer(options: LitecellServerOptions = {}): Promise<TestServer> {
  return LitecellServer.start({
    label: 'e2e',
    adminToken: TEST_ADMIN_TOKEN,
    ...options,
    env: {
      LITECELL_IDLE_MS: '3000',
      LITECELL_LEASE_TTL_MS: '6000',
      LITECELL_SYNC_INTERVAL_MS: '200',
      LITECELL_APPS: `test=${TEST_APP_PATH}`,
      ...options.env,
    },
  })
}

/**
 * A test server for the whole file: started in `beforeAll`, stopped in `afterAll` (its data
 * directory removed unless LITECELL_KEEP_DATA is set). Read its parts from the returned
 * handle inside tests. `options` may be a function, called when the server starts.
 *
 * @example
 * const server = useServer({ env: { LITECELL_IDLE_MS: '60000' } })
 * test('…', async () => { await server.admin.createTenant({ id: 'acme', app: 'test' }) })
 */
export function useServer(
  options: LitecellServerOptions | (() => LitecellServerOptions) = {},
): ServerHandle {
  const handle = new ServerHandle()
  beforeAll(async () => {
    // A function is read when the server starts: after the file's earlier `beforeAll` hooks
    // (an S3 server of the test's own, say).
    handle.current = await startTestServer(typeof options === 'function' ? options() : options)
  })
  afterAll(async () => {
    const server = handle.current
    if (!server) return
    await server.stop()
    if (!process.env.LITECELL_KEEP_DATA) await server.removeDataDir()
  })
  return handle
}

/** The file's server, once `beforeAll` has started it. */
export class ServerHandle {
  #current: TestServer | undefined

  get current(): TestServer {
    if (!this.#current) throw new Error('the test server is not started yet (use it inside tests)')
    return this.#current
  }

  set current(server: TestServer) {
    this.#current = server
  }

  get url(): string {
    return this.current.url
  }

  get dataDir(): string {
    return this.current.dataDir
  }

  get adminToken(): string {
    return this.current.adminToken
  }

  get admin(): LitecellClient {
    return this.current.admin
  }

  get process(): TestServer['process'] {
    return this.current.process
  }

  output(): string {
    return this.current.output()
  }

  /** One request to the server's API, exactly as given (no token added). */
  fetch(path: string, init?: RequestInit): Promise<Response> {
    return fetch(`${this.url}${path}`, init)
  }
}

/** A server a test can send raw requests to: {@link ServerHandle} or the in-process one. */
export interface RawApi {
  fetch(path: string, init?: RequestInit): Promise<Response>
}

/** An answer as a raw request got it: status, headers, text, and the JSON body if any. */
export interface RawReply {
  status: number
  headers: Headers
  text: string
  body: any
}

/**
 * Sends one request with exactly the given `Authorization` header (or none) and a JSON body
 * (if any), and reads the whole answer.
 */
export async function callRaw(
  api: RawApi,
  method: string,
  path: string,
  authorization: string | undefined,
  body?: unknown,
): Promise<RawReply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (authorization !== undefined) headers.authorization = authorization
  const response = await api.fetch(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: response.status, headers: response.headers, text, body: parsed }
}

/**
 * Asserts an API error answer: the status, the `{error: {code, message}}` shape, and
 * optionally its code and a word of its message.
 */
export function expectApiError(
  reply: { status: number; body: any },
  status: number,
  code?: string,
  mentions?: string,
): void {
  expect(reply.status, JSON.stringify(reply.body).slice(0, 300)).toBe(status)
  expect(reply.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } })
  if (code) expect(reply.body.error.code).toBe(code)
  if (mentions) expect(reply.body.error.message).toContain(mentions)
}

/** Creates a tenant running the test app; returns its id and token. */
export function createTenant(
  admin: LitecellClient,
  id: string,
  app = 'test',
): Promise<{ id: string; token: string }> {
  return admin.createTenant({ id, app })
}

/**
 * Every file the embedded S3 server under `<dataDir>/s3` stores whose path holds `keyPart`
 * (`tenants/<id>/`, say), relative to that folder.
 */
export function storedFiles(dataDir: string, keyPart: string): string[] {
  const root = join(dataDir, 's3')
  const files: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else files.push(path.slice(root.length + 1))
    }
  }
  if (existsSync(root)) walk(root)
  return files.filter((file) => file.includes(keyPart))
}

/** The ids of the tenants the admin list shows, sorted: "changes nothing" checks compare them. */
export async function tenantIds(admin: LitecellClient): Promise<string[]> {
  const { tenants } = await admin.get<{ tenants: { id: string }[] }>('/v1/tenants')
  return tenants.map((t) => t.id).sort()
}

/** `test.each` rows titled in full: vitest cuts `$field` values in titles at 40 characters. */
export function titled<C>(cases: readonly C[], title: (c: C) => string): [string, C][] {
  return cases.map((c) => [title(c), c])
}

/** Runs read-only SQL in the tenant and returns its rows. */
export async function query(
  client: LitecellClient,
  tenantId: string,
  sql: string,
  args: (string | number | null)[] = [],
): Promise<any[]> {
  return (await client.query(tenantId, sql, args)).rows
}

const ENDED = new Set(['succeeded', 'failed', 'cancelled'])

/**
 * Waits until every listed run of the tenant has ended and returns them as ended. Long-polls
 * up to 50 pending runs at a time and rides out errors (a worker being killed on purpose)
 * until `timeoutMs`.
 */
export async function waitForRuns(
  client: LitecellClient,
  tenantId: string,
  runIds: readonly string[],
  timeoutMs = 120_000,
): Promise<any[]> {
  const pending = new Set(runIds)
  const done = new Map<string, RunDetail>()
  await waitFor(
    async () => {
      for (const runId of [...pending].slice(0, 50)) {
        const run = await client.runResult(tenantId, runId, { waitMs: 2_000 })
        if (ENDED.has(run.status)) {
          pending.delete(runId)
          done.set(runId, run)
        }
      }
      return pending.size === 0
    },
    { timeoutMs, intervalMs: 10, what: `${pending.size} runs of ${tenantId} to end` },
  )
  return runIds.map((id) => done.get(id)!)
}
