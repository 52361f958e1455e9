/**
 * `@litecell/client` declares the API's types itself (it depends on nothing, so a browser
 * bundle can use it); this pins the lists it shares with the engine to the engine's own.
 */
import { FINISHED_STATUSES, RUN_STATUSES, type RunWait as ClientRunWait } from '@litecell/client'
import {
  RUN_STATUSES as ENGINE_RUN_STATUSES,
  type RunWait as EngineRunWait,
} from '@litecell/engine'
import { expect, test } from 'vitest'

test("the client's run statuses are the engine's, in the same order", () => {
  expect(RUN_STATUSES).toEqual(ENGINE_RUN_STATUSES)
  for (const status of FINISHED_STATUSES) expect(ENGINE_RUN_STATUSES).toContain(status)
})

test("the client's RunWait is the engine's", () => {
  // Compile-time: each type is assignable to the other.
  const fromEngine = (wait: EngineRunWait): ClientRunWait => wait
  const fromClient = (wait: ClientRunWait): EngineRunWait => wait
  expect([fromEngine, fromClient]).toHaveLength(2)
})

test("the client's bulk status limit is the engine's", async () => {
  const client = await import('@litecell/client')
  const engine = await import('@litecell/engine')
  expect(client.MAX_STATUS_RUN_IDS).toBe(engine.MAX_STATUS_RUN_IDS)
})
