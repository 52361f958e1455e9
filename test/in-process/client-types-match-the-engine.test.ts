/**
 * `@litecell/client` declares the API's types itself (it depends on nothing, so a browser
 * bundle can use it); this pins the lists it shares with the engine to the engine's own.
 */
import { FINISHED_STATUSES, RUN_STATUSES, type RunWait as ClientRunWait } from '@litecell/client'
import type * as Client from '@litecell/client'
import type * as Engine from '@litecell/engine'
import {
  RUN_STATUSES as ENGINE_RUN_STATUSES,
  SCHEDULE_CATCH_UPS as ENGINE_SCHEDULE_CATCH_UPS,
  SCHEDULE_OVERLAPS as ENGINE_SCHEDULE_OVERLAPS,
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
  // The API's schema of the bulk status body (and the OpenAPI document) states it too.
  expect((await import('@litecell/protocol')).MAX_STATUS_RUN_IDS).toBe(engine.MAX_STATUS_RUN_IDS)
})

/** Compiles only if `A` and `B` are each assignable to the other. */
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
function mutual<A, B>(same: Mutual<A, B>): Mutual<A, B> {
  return same
}
/** Compiles only if what the engine answers (`E`) fits what the client declares (`C`). */
function fits<E, C>(fit: [E] extends [C] ? true : false): boolean {
  return fit
}

test("the client's mirrored types are the engine's (checked by the compiler)", () => {
  const pins = [
    mutual<Client.RunStatus, Engine.RunStatus>(true),
    mutual<Client.StepKind, Engine.StepKind>(true),
    mutual<Client.StepStatus, Engine.StepStatus>(true),
    // The client reads a run's error leniently (every field optional).
    fits<Engine.RunError, Client.RunError>(true),
    mutual<Client.RunStatusEntry, Engine.RunStatusEntry>(true),
    mutual<Client.ScheduleOverlap, Engine.ScheduleOverlap>(true),
    mutual<Client.ScheduleCatchUp, Engine.ScheduleCatchUp>(true),
    mutual<Client.ScheduleView, Engine.ScheduleView>(true),
    mutual<Client.AppDescription, Engine.AppDescription>(true),
  ]
  expect(pins.every(Boolean)).toBe(true)
})

test("the client's schedule options are the engine's, in the same order", () => {
  const overlaps: readonly Client.ScheduleOverlap[] = ['skip', 'allow', 'queue']
  const catchUps: readonly Client.ScheduleCatchUp[] = ['latest', 'all', 'none']
  expect(overlaps).toEqual(ENGINE_SCHEDULE_OVERLAPS)
  expect(catchUps).toEqual(ENGINE_SCHEDULE_CATCH_UPS)
})
