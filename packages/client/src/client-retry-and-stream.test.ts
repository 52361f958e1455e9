import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest'
import { LitecellClient } from './litecell-client.js'
import { retryDelayMs } from './response-retry.js'
import { retrying } from './retry.js'

/** The fake API's behaviour for the next requests, by path. */
let script: Record<
  string,
  ((request: IncomingMessage, body: string, response: ServerResponse) => void)[]
> = {}
const seen: { method: string; url: string; body: string }[] = []
let server: Server
let client: LitecellClient

const json = (response: ServerResponse, status: number, payload: unknown, headers = {}) => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers })
  response.end(JSON.stringify(payload))
}
const busy =
  (code: string, status = 503, retryAfter = '0') =>
  (_: IncomingMessage, __: string, response: ServerResponse) =>
    json(response, status, { error: { code, message: 'busy' } }, { 'retry-after': retryAfter })

// A real HTTP server, so retries, headers and streams go over the wire.
beforeAll(async () => {
  server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      seen.push({ method: request.method!, url: request.url!, body })
      const next = script[request.url!]?.shift()
      if (next) return next(request, body, response)
      json(response, 200, { ok: true, body: body ? JSON.parse(body) : null })
    })
  })
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
  client = new LitecellClient({
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    retry: { initialDelayMs: 1 },
  })
})
afterAll(() => new Promise((closed) => server.close(closed)))
beforeEach(() => {
  script = {}
  seen.length = 0
})

test('a read answered 429 or 503 is retried after Retry-After, then succeeds', async () => {
  script['/v1/tenants/acme'] = [busy('OVER_CAPACITY', 429), busy('WORKER_UNAVAILABLE')]
  expect(await client.get('/v1/tenants/acme')).toMatchObject({ ok: true })
  expect(seen).toHaveLength(3)
})

test('retries stop after the attempts, and never for a failed tenant or a broken app', async () => {
  script['/v1/x'] = Array.from({ length: 5 }, () => busy('WORKER_STOPPING'))
  await expect(client.get('/v1/x')).rejects.toMatchObject({ code: 'WORKER_STOPPING', status: 503 })
  expect(seen).toHaveLength(4)
  for (const code of ['TENANT_FAILED', 'APP_LOAD_FAILED']) {
    seen.length = 0
    script['/v1/y'] = [busy(code)]
    await expect(client.get('/v1/y')).rejects.toMatchObject({ code })
    expect(seen).toHaveLength(1)
  }
})

test('a write is not retried unless idempotent; a start always carries a key, the same on each retry', async () => {
  script['/v1/tenants/acme/runs/r1/events'] = [busy('WORKER_UNAVAILABLE')]
  await expect(client.sendEvent('acme', 'r1', { name: 'go' })).rejects.toMatchObject({
    status: 503,
  })
  expect(seen).toHaveLength(1)

  seen.length = 0
  script['/v1/tenants/acme/runs'] = [busy('OVER_CAPACITY', 429)]
  await client.startRun('acme', { workflow: 'train' })
  expect(seen).toHaveLength(2)
  const keys = seen.map((request) => JSON.parse(request.body).idempotencyKey)
  expect(keys[0]).toMatch(/^lc-client-[0-9a-f-]{36}$/)
  expect(keys[1]).toBe(keys[0])

  seen.length = 0
  await client.startRuns('acme', [{ workflow: 'a', idempotencyKey: 'mine' }, { workflow: 'b' }])
  const runs = JSON.parse(seen[0]!.body).runs
  expect(runs[0].idempotencyKey).toBe('mine')
  expect(runs[1].idempotencyKey).toMatch(/^lc-client-/)
})

test('a query (read-only, so safe to repeat) is retried past QUERY_BUSY with the same SQL', async () => {
  script['/v1/tenants/acme/query'] = [busy('QUERY_BUSY', 429)]
  expect(await client.query('acme', 'SELECT ?', [1])).toMatchObject({ ok: true })
  expect(seen.map((request) => request.body)).toEqual([
    '{"sql":"SELECT ?","args":[1]}',
    '{"sql":"SELECT ?","args":[1]}',
  ])
})

test('Retry-After is read as seconds or an HTTP date, and capped', () => {
  const answer = (value: string) =>
    new Response(null, { status: 429, headers: { 'retry-after': value } })
  expect(retryDelayMs(answer('2'), 1, {})).toBe(2_000)
  expect(retryDelayMs(answer(new Date(10_000).toUTCString()), 1, {}, 7_000)).toBe(3_000)
  expect(retryDelayMs(answer('3600'), 1, { maxDelayMs: 5_000 })).toBe(5_000)
  const backoff = retryDelayMs(new Response(null, { status: 503 }), 3, { initialDelayMs: 100 })
  expect(backoff).toBeGreaterThanOrEqual(200)
  expect(backoff).toBeLessThanOrEqual(600)
})

/** A run stream that sends the given SSE frames, then ends. */
const stream = (frames: string[]) => (_: IncomingMessage, __: string, response: ServerResponse) => {
  response.writeHead(200, { 'content-type': 'text/event-stream' })
  for (const frame of frames) response.write(frame)
  response.end()
}
const status = (runId: string, value: string) =>
  `event: status\ndata: ${JSON.stringify({ runId, workflow: 'train', status: value, at: '2026-01-01T00:00:00.000Z' })}\n\n`

test('runEvents parses the run stream into typed events', async () => {
  script['/v1/tenants/acme/runs/stream'] = [
    stream([
      'retry: 2000\n\n',
      'event: attached\ndata: {}\n\n',
      status('r1', 'running'),
      ': keep-alive\n\n',
      'event: detached\ndata: {}\n\n',
    ]),
  ]
  const events = []
  for await (const event of client.runEvents('acme')) events.push(event)
  expect(events).toEqual([
    { type: 'attached' },
    {
      type: 'status',
      run: { runId: 'r1', workflow: 'train', status: 'running', at: '2026-01-01T00:00:00.000Z' },
    },
    { type: 'detached' },
  ])
})

test('watchRun yields the status now, then each change of that run, and ends on a final one', async () => {
  const run = (value: string) => (_: IncomingMessage, __: string, response: ServerResponse) =>
    json(response, 200, {
      runId: 'r1',
      workflow: 'train',
      status: value,
      updatedAt: 'now',
      steps: [],
    })
  script['/v1/tenants/acme/runs/r1'] = [run('pending'), run('sleeping')]
  script['/v1/tenants/acme/runs/stream'] = [
    stream([
      status('r1', 'running'),
      status('other', 'failed'),
      status('r1', 'running'),
      // A new worker: changes in between were not replayed, so the run is read again.
      'event: attached\ndata: {}\n\n',
      status('r1', 'succeeded'),
      status('r1', 'failed'),
    ]),
  ]
  const statuses = []
  for await (const change of client.watchRun('acme', 'r1')) statuses.push(change.status)
  expect(statuses).toEqual(['pending', 'running', 'sleeping', 'succeeded'])
})

// Catches: retrying() pausing by its own short backoff after a 429 that asked for more time,
// because the error it caught no longer carried the answer's Retry-After.
test('retrying waits at least the Retry-After of the answer it retries', async () => {
  script['/v1/slow'] = [busy('OVER_CAPACITY', 429, '1')]
  const address = server.address() as AddressInfo
  const once = new LitecellClient({ baseUrl: `http://127.0.0.1:${address.port}`, retry: false })
  const at: number[] = []
  const answer = await retrying(
    () => {
      at.push(Date.now())
      return once.get('/v1/slow')
    },
    { initialDelayMs: 1, maxDelayMs: 1 },
  )
  expect(answer).toMatchObject({ ok: true })
  expect(at).toHaveLength(2)
  // A lower bound only: a slow machine waits longer, never less.
  expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(950)
})
