/**
 * Every stop has a deadline (issue 9, item 8). A step that awaits a promise that never settles
 * cannot hold its tenant `stopping`: past LITECELL_STOP_TIMEOUT_MS the worker stops waiting for
 * it, finishes the verified sync, removes its files and exits; the run resumes on the next
 * wake (its step runs again, at-least-once).
 *
 * Catches: a hibernation that waits for runs without a deadline (`engine.close()` with no
 * timeout): the tenant stays `stopping` forever, the hibernate call never answers, and
 * eviction and shutdown hang behind it.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { waitFor } from '@litecell/testkit'
import { createTenant, useServer } from '@litecell/testkit/e2e'

const STOP_TIMEOUT_MS = 2_000
const SYNC_TIMEOUT_MS = 20_000
const server = useServer({
  env: {
    LITECELL_IDLE_MS: '60000',
    LITECELL_STOP_TIMEOUT_MS: String(STOP_TIMEOUT_MS),
    LITECELL_SYNC_TIMEOUT_MS: String(SYNC_TIMEOUT_MS),
  },
})

test('a step that never settles delays a hibernation by the stop deadline only; the run resumes on the next wake', async () => {
  const { admin } = server
  await createTenant(admin, 'stuck')
  const { runId } = await admin.post<any>('/v1/tenants/stuck/runs', { workflow: 'hang' })
  await waitFor(
    async () => (await admin.get<any>(`/v1/tenants/stuck/runs/${runId}`)).status === 'running',
  )
  const hibernatedPid = (await admin.get<any>('/v1/tenants/stuck')).worker.pid

  // The bound: the stop deadline plus the sync budget; the hibernation ends long before it.
  const boundMs = STOP_TIMEOUT_MS + SYNC_TIMEOUT_MS
  const startedAt = Date.now()
  const answer = await Promise.race([
    admin.send<any>('POST', '/v1/tenants/stuck/hibernate', { body: {} }),
    new Promise<'no answer'>((resolve) => setTimeout(() => resolve('no answer'), boundMs)),
  ])
  const tookMs = Date.now() - startedAt
  expect(answer, `hibernate answered after ${tookMs} ms`).not.toBe('no answer')
  expect((answer as { status: number }).status).toBe(200)
  expect(tookMs).toBeGreaterThanOrEqual(STOP_TIMEOUT_MS)
  // The run left pending makes the tenant due at once: the scheduler may wake it again before
  // the next request, so what the hibernation did is read from the worker's log, not raced.
  const log = readFileSync(join(server.dataDir, 'logs', 'stuck.log'), 'utf8')
  expect(log).toContain('runs still inside a step at the stop deadline')
  expect(log).toContain('"msg":"hibernated"')

  // The next wake recovers the run: it is executing its step again.
  await admin.post<any>('/v1/tenants/stuck/wake')
  expect((await admin.get<any>('/v1/tenants/stuck')).worker.pid).not.toBe(hibernatedPid)
  const run = await admin.get<any>(`/v1/tenants/stuck/runs/${runId}`)
  expect(run.status).toBe('running')
})
