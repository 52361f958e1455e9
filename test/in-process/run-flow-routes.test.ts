/**
 * The flow-control and run-search parts of the runs API (issue 13, sections 3 and 4), through
 * the control plane's real app and real in-process workers: start options (`priority`,
 * `deduplicationId`, `partitionKey`, `tags`, `timeoutMs`, `debounce`), `tag.<key>` filters of
 * `GET …/runs` and `POST …/runs/status`. Every new parameter and route gets its bad-input
 * cases (400 naming the field, nothing written) and its auth cases (a tenant token reaches its
 * own tenant only). What needs real processes (order and dedup across SIGKILL and hibernation,
 * a timeout firing on a hibernated tenant, retention on disk) is in
 * `test/flow-control-survives-restarts.test.ts` and `test/retention-keeps-file-bounded.test.ts`.
 */
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { isLitecellError } from '@litecell/client'
import { TEST_APP_PATH, callRaw, createTenant, waitForRuns } from '@litecell/testkit/e2e'
import { REPO_ROOT } from '@litecell/testkit/server'
import { useInProcessServer } from '@litecell/testkit/in-process'

const FLOW_APP_PATH = join(REPO_ROOT, 'test/apps/flow-app.ts')
const OWN = 'flow'
const OTHER = 'other'
const T = `/v1/tenants/${OWN}`

const server = useInProcessServer({
  apps: { default: TEST_APP_PATH, test: TEST_APP_PATH, flow: FLOW_APP_PATH },
})
const tokens = { own: '', other: '' }

beforeAll(async () => {
  tokens.own = (await createTenant(server.admin, OWN, 'flow')).token
  tokens.other = (await createTenant(server.admin, OTHER, 'flow')).token
})

const bearer = (token: string) => `Bearer ${token}`

async function runCount(): Promise<number> {
  return (await server.admin.listRuns(OWN, { limit: 1000 })).runs.length
}

describe('start options and run views', () => {
  test('a start with every option answers 202 and the run view shows them', async () => {
    const { runId } = await server.admin.startRun(OWN, {
      workflow: 'job',
      input: { name: 'a' },
      queue: 'gpu',
      priority: -3,
      partitionKey: 'user-1',
      tags: { lr: '0.1', dataset: 'cifar' },
      timeoutMs: 60_000,
    })
    await waitForRuns(server.admin, OWN, [runId])
    const run = await server.admin.getRun(OWN, runId)
    expect(run).toMatchObject({
      status: 'succeeded',
      queue: 'gpu',
      priority: -3,
      partitionKey: 'user-1',
      tags: { lr: '0.1', dataset: 'cifar' },
      deadlineAt: expect.any(String),
    })
  })

  test('a second start with an unfinished run’s deduplicationId is 409 DUPLICATE_RUN naming it', async () => {
    const first = await server.admin.startRun(OWN, { workflow: 'waiter', deduplicationId: 'd-1' })
    const before = await runCount()
    const reply = await callRaw(server, 'POST', `${T}/runs`, bearer(tokens.own), {
      workflow: 'waiter',
      deduplicationId: 'd-1',
    })
    expect(reply.status).toBe(409)
    expect(reply.body.error).toMatchObject({ code: 'DUPLICATE_RUN', runId: first.runId })
    expect(reply.body.error.message).toContain(first.runId)
    const batch = await callRaw(server, 'POST', `${T}/runs/batch`, bearer(tokens.own), {
      runs: [{ workflow: 'waiter' }, { workflow: 'waiter', deduplicationId: 'd-1' }],
    })
    expect(batch.status).toBe(409)
    expect(batch.body.error.runId).toBe(first.runId)
    expect(await runCount()).toBe(before)
    // The client carries the run id in `details`; once the run ended the id is free again.
    const err = await server.admin
      .startRun(OWN, { workflow: 'waiter', deduplicationId: 'd-1' })
      .catch((e: unknown) => e)
    expect(isLitecellError(err) && err.details.runId).toBe(first.runId)
    await server.admin.sendEvent(OWN, first.runId, { name: 'go' })
    await waitForRuns(server.admin, OWN, [first.runId])
    const again = await server.admin.startRun(OWN, { workflow: 'waiter', deduplicationId: 'd-1' })
    expect(again.runId).not.toBe(first.runId)
    await server.admin.cancelRun(OWN, again.runId)
  })

  test('debounced starts answer with one run id, sleeping until the delay after the last start', async () => {
    const debounce = { key: 'doc-9', delayMs: 60_000 }
    const a = await server.admin.startRun(OWN, { workflow: 'job', input: { name: 'd1' }, debounce })
    const b = await server.admin.startRun(OWN, { workflow: 'job', input: { name: 'd2' }, debounce })
    expect(a).toEqual({ runId: a.runId, status: 'sleeping' })
    expect(b.runId).toBe(a.runId)
    expect(await server.admin.getRun(OWN, a.runId)).toMatchObject({
      status: 'sleeping',
      input: { name: 'd2' },
      debounceKey: 'doc-9',
    })
    await server.admin.cancelRun(OWN, a.runId)
  })

  test('GET …/runs?tag.<k>=<v> filters by all the given tags, newest first', async () => {
    const tagged = async (tags: Record<string, string>) =>
      (await server.admin.startRun(OWN, { workflow: 'three', tags })).runId
    const x1 = await tagged({ sweep: 'x', lr: '0.1' })
    const x2 = await tagged({ sweep: 'x', lr: '0.2' })
    const x3 = await tagged({ sweep: 'x', lr: '0.1' })
    await tagged({ sweep: 'y', lr: '0.1' })
    const reply = await callRaw(
      server,
      'GET',
      `${T}/runs?tag.sweep=x&tag.lr=0.1`,
      bearer(tokens.own),
    )
    expect(reply.status).toBe(200)
    expect(reply.body.runs.map((r: { runId: string }) => r.runId)).toEqual([x3, x1])
    const page = await server.admin.listRuns(OWN, { tags: { sweep: 'x' }, limit: 2 })
    expect(page.runs.map((r) => r.runId)).toEqual([x3, x2])
    expect(page.nextCursor).not.toBeNull()
  })

  test('POST …/runs/status answers each id in order and marks unknown ones', async () => {
    const { runId } = await server.admin.startRun(OWN, { workflow: 'three' })
    await waitForRuns(server.admin, OWN, [runId])
    const reply = await callRaw(server, 'POST', `${T}/runs/status`, bearer(tokens.own), {
      runIds: ['nope', runId],
    })
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual({
      runs: [
        { runId: 'nope', status: null, notFound: true },
        { runId, status: 'succeeded', updatedAt: expect.any(String) },
      ],
    })
    expect(await server.admin.runStatuses(OWN, [runId])).toMatchObject([{ status: 'succeeded' }])
  })
})

/** A bad request: the route, its body or query, and the word its 400 message must contain. */
interface BadCase {
  readonly what: string
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly body?: unknown
  readonly mentions: string
}

const start = (extra: Record<string, unknown>) => ({ workflow: 'three', ...extra })
const BAD: readonly BadCase[] = [
  ...[
    ['priority', 'high'],
    ['priority', 1.5],
    ['priority', 2_000_000],
    ['priority', null],
    ['deduplicationId', ''],
    ['deduplicationId', 'x'.repeat(513)],
    ['deduplicationId', 7],
    ['partitionKey', 'user-1'],
    ['partitionKey', ''],
    ['tags', 'lr=0.1'],
    ['tags', { lr: 0.1 }],
    ['tags', { 'l r': '0.1' }],
    ['tags', { lr: 'v'.repeat(257) }],
    ['tags', Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))],
    ['timeoutMs', 0],
    ['timeoutMs', '10s'],
    ['debounce', { key: 'k' }],
    ['debounce', { key: '', delayMs: 10 }],
    ['debounce', 'k'],
  ].map(([field, value]) => ({
    what: `start with ${field} ${JSON.stringify(value).slice(0, 40)}`,
    method: 'POST' as const,
    path: `${T}/runs`,
    body: start({ [field as string]: value }),
    mentions: field as string,
  })),
  {
    what: 'start with a partitionKey on a queue without partitionConcurrency',
    method: 'POST',
    path: `${T}/runs`,
    body: start({ queue: 'serial', partitionKey: 'u' }),
    mentions: 'partitionConcurrency',
  },
  {
    what: 'start with both debounce and deduplicationId',
    method: 'POST',
    path: `${T}/runs`,
    body: start({ debounce: { key: 'k', delayMs: 5 }, deduplicationId: 'd' }),
    mentions: 'exclude',
  },
  {
    what: 'batch whose second run has bad tags',
    method: 'POST',
    path: `${T}/runs/batch`,
    body: { runs: [start({ tags: { ok: 'y' } }), start({ tags: { lr: 1 } })] },
    mentions: 'tags',
  },
  {
    what: 'status without runIds',
    method: 'POST',
    path: `${T}/runs/status`,
    body: {},
    mentions: 'runIds',
  },
  {
    what: 'status with no ids',
    method: 'POST',
    path: `${T}/runs/status`,
    body: { runIds: [] },
    mentions: 'runIds',
  },
  {
    what: 'status with 1,001 ids',
    method: 'POST',
    path: `${T}/runs/status`,
    body: { runIds: Array.from({ length: 1_001 }, (_, i) => `r${i}`) },
    mentions: '1000',
  },
  {
    what: 'status with a number for an id',
    method: 'POST',
    path: `${T}/runs/status`,
    body: { runIds: ['a', 7] },
    mentions: 'runIds[1]',
  },
  {
    what: 'status with a string',
    method: 'POST',
    path: `${T}/runs/status`,
    body: { runIds: 'a' },
    mentions: 'runIds',
  },
  { what: 'list with an empty tag key', method: 'GET', path: `${T}/runs?tag.=x`, mentions: 'tags' },
  {
    what: 'list with a tag key outside [A-Za-z0-9_.:-]',
    method: 'GET',
    path: `${T}/runs?tag.l%20r=x`,
    mentions: 'tags',
  },
  {
    what: 'list with a tag value over 256 characters',
    method: 'GET',
    path: `${T}/runs?tag.lr=${'v'.repeat(257)}`,
    mentions: 'tags',
  },
  {
    what: 'list with one tag given twice',
    method: 'GET',
    path: `${T}/runs?tag.lr=1&tag.lr=2`,
    mentions: 'tag.lr',
  },
]

describe('bad input gets 400 naming the field and writes nothing', () => {
  test.each(BAD.map((c) => [c.what, c] as const))('%s', async (_, c) => {
    const before = await runCount()
    const reply = await callRaw(server, c.method, c.path, bearer(tokens.own), c.body)
    expect(reply.status, reply.text.slice(0, 300)).toBe(400)
    expect(reply.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } })
    expect(['INVALID_INPUT', 'BAD_REQUEST']).toContain(reply.body.error.code)
    expect(reply.body.error.message).toContain(c.mentions)
    expect(await runCount()).toBe(before)
  })
})

describe('only the right token gets in', () => {
  const routes = [
    { method: 'POST', path: `${T}/runs`, body: start({ priority: 1, tags: { a: 'b' } }), ok: 202 },
    {
      method: 'POST',
      path: `${T}/runs/batch`,
      body: { runs: [start({ partitionKey: 'u', queue: 'gpu' })] },
      ok: 202,
    },
    { method: 'GET', path: `${T}/runs?tag.a=b`, ok: 200 },
    { method: 'POST', path: `${T}/runs/status`, body: { runIds: ['x'] }, ok: 200 },
  ] as const
  test.each(routes.map((r) => [`${r.method} ${r.path.split('?')[0]}`, r] as const))(
    '%s: admin and own token in, other tenant’s token 403, no or bad token 401',
    async (_, r) => {
      const body = 'body' in r ? r.body : undefined
      expect(
        (await callRaw(server, r.method, r.path, bearer(server.adminToken), body)).status,
      ).toBe(r.ok)
      expect((await callRaw(server, r.method, r.path, bearer(tokens.own), body)).status).toBe(r.ok)
      const before = await runCount()
      const other = await callRaw(server, r.method, r.path, bearer(tokens.other), body)
      expect(other.status).toBe(403)
      expect(other.body.error.code).toBe('FORBIDDEN')
      expect((await callRaw(server, r.method, r.path, undefined, body)).status).toBe(401)
      expect((await callRaw(server, r.method, r.path, 'Bearer lct_nope', body)).status).toBe(401)
      expect(await runCount()).toBe(before)
    },
  )
})
