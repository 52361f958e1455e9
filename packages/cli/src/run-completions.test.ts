import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, expect, test } from 'vitest'
import { LitecellClient } from '@litecell/client'
import { RunCompletions, type EndedRun } from './run-completions.js'

// A hand-written API fake: only to produce what a real server can't be made to do on cue
// (answer without the status route, count the calls). The real path is covered by test/cli.test.ts.
let server: Server | undefined

afterEach(async () => {
  await new Promise((closed) => server?.close(closed))
  server = undefined
})

async function fakeApi(options: { statusRouteWorks: boolean; pollsBeforeEnd: number }) {
  const calls = { status: 0, result: 0, largestStatusRequest: 0 }
  const polls = new Map<string, number>()
  server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      response.setHeader('content-type', 'application/json')
      if (request.url?.endsWith('/runs/status')) {
        calls.status += 1
        if (!options.statusRouteWorks) {
          response.statusCode = 404
          return response.end(
            JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such route' } }),
          )
        }
        const ids = JSON.parse(body).runIds as string[]
        calls.largestStatusRequest = Math.max(calls.largestStatusRequest, ids.length)
        const runs = ids.map((id) =>
          id.startsWith('gone')
            ? { runId: id, status: null, notFound: true }
            : {
                runId: id,
                status: bump(polls, id) > options.pollsBeforeEnd ? statusOf(id) : 'running',
                updatedAt: new Date().toISOString(),
              },
        )
        return response.end(JSON.stringify({ runs }))
      }
      const runId = /\/runs\/([^/]+)\/result/.exec(request.url ?? '')?.[1] ?? ''
      calls.result += 1
      const status = bump(polls, runId) > options.pollsBeforeEnd ? statusOf(runId) : 'running'
      response.end(JSON.stringify({ runId, status, steps: [] }))
    })
  })
  await new Promise<void>((listening) => server!.listen(0, '127.0.0.1', listening))
  const client = new LitecellClient({
    baseUrl: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`,
  })
  return { client, calls }
}

function bump(polls: Map<string, number>, id: string): number {
  const count = (polls.get(id) ?? 0) + 1
  polls.set(id, count)
  return count
}

function statusOf(runId: string): string {
  return runId.startsWith('bad') ? 'failed' : 'succeeded'
}

async function waitForAll(client: LitecellClient, runIds: string[]): Promise<EndedRun[]> {
  const ended: EndedRun[] = []
  const completions = new RunCompletions(client, 't', { onEnd: (run) => ended.push(run) })
  completions.add(runIds.slice(0, 3))
  completions.add(runIds.slice(3))
  await completions.drained()
  return ended
}

test('ended runs are found in bulk through the status route, each reported once', async () => {
  const { client, calls } = await fakeApi({ statusRouteWorks: true, pollsBeforeEnd: 1 })
  const runIds = ['r1', 'r2', 'bad3', 'r4', 'r5']
  const ended = await waitForAll(client, runIds)
  expect(ended.map((run) => run.runId).sort()).toEqual([...runIds].sort())
  expect(ended.find((run) => run.runId === 'bad3')?.status).toBe('failed')
  expect(calls.result).toBe(0)
  expect(calls.status).toBeLessThanOrEqual(3)
})

test('asks for at most 1,000 runs per status request', async () => {
  const { client, calls } = await fakeApi({ statusRouteWorks: true, pollsBeforeEnd: 0 })
  const runIds = Array.from({ length: 2_500 }, (_, i) => `r${i}`)
  const ended = await waitForAll(client, runIds)
  expect(ended).toHaveLength(2_500)
  expect(calls.largestStatusRequest).toBe(1_000)
  expect(calls.result).toBe(0)
})

test('a run the server no longer knows stops the waiting with RUN_NOT_FOUND (exit 3)', async () => {
  const { client } = await fakeApi({ statusRouteWorks: true, pollsBeforeEnd: 0 })
  await expect(waitForAll(client, ['r1', 'gone2'])).rejects.toMatchObject({
    code: 'RUN_NOT_FOUND',
    exitCode: 3,
    message: expect.stringContaining('gone2'),
  })
})

test('a server without the status route gets each run long-polled instead', async () => {
  const { client, calls } = await fakeApi({ statusRouteWorks: false, pollsBeforeEnd: 2 })
  const runIds = Array.from({ length: 40 }, (_, i) => (i % 10 === 0 ? `bad${i}` : `r${i}`))
  const ended = await waitForAll(client, runIds)
  expect(ended.map((run) => run.runId).sort()).toEqual([...runIds].sort())
  expect(ended.filter((run) => run.status === 'failed')).toHaveLength(4)
  expect(calls.status).toBe(1)
  expect(calls.result).toBe(40 * 3)
})
