import { HIBERNATE_PATH, WORKER_SECRET_HEADER } from '@litecell/protocol'
import { cleanup, openTestEngine } from '@litecell/testkit/engine'
import { afterEach, expect, test } from 'vitest'
import { isEngineIdle } from './idle-monitor.js'
import { createTenantApi } from './tenant-api.js'

/**
 * The hand-over route (`POST hibernate?ifIdle=1&waitMs=`), which the control plane's wake
 * queue uses to take an idle worker's slot at once: a worker with a run executing declines
 * (and never hibernates), and one asked to wait hibernates the moment its last run ends. It
 * catches a worker that hibernates under a running run, or that answers only after its idle
 * timeout. A real engine on a temp file; the hibernation itself is counted, not performed.
 */
afterEach(cleanup)

const SECRET = 'worker-secret'

async function setup() {
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  const { engine } = await openTestEngine({
    workflows: { held: async (ctx: any) => ctx.step('wait', () => held) },
  })
  let hibernations = 0
  const api = createTenantApi({
    tenantId: 'acme',
    engine,
    workerSecret: SECRET,
    isStopping: () => hibernations > 0,
    scratchDir: '/tmp',
    hibernate: async () => ((hibernations += 1), 0),
    isIdle: () => isEngineIdle(engine),
    syncPoint: async () => ({ at: new Date().toISOString() }),
  })
  const ask = async (waitMs: number) =>
    (await (
      await api.request(`${HIBERNATE_PATH}?ifIdle=1&waitMs=${waitMs}`, {
        method: 'POST',
        headers: { [WORKER_SECRET_HEADER]: SECRET },
      })
    ).json()) as { hibernating: boolean }
  return { engine, release, ask, hibernations: () => hibernations }
}

test('a worker with a run executing declines the hand-over and keeps running', async () => {
  const { engine, release, ask, hibernations } = await setup()
  const { runId } = await engine.start('held', null)
  expect(await ask(0)).toEqual({ hibernating: false })
  expect(hibernations()).toBe(0)
  release()
  expect((await engine.result(runId, { waitMs: 10_000 })).status).toBe('succeeded')
})

test('a worker asked to wait hands over as soon as its last run ends, not before', async () => {
  const { engine, release, ask, hibernations } = await setup()
  const { runId } = await engine.start('held', null)
  const answer = ask(9_000)
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(hibernations()).toBe(0)
  release()
  expect(await answer).toEqual({ hibernating: true })
  expect(hibernations()).toBe(1)
  expect((await engine.result(runId)).status).toBe('succeeded')
})

test('an idle worker hands over at once', async () => {
  const { ask, hibernations } = await setup()
  expect(await ask(0)).toEqual({ hibernating: true })
  expect(hibernations()).toBe(1)
})
