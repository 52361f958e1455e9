import { expect, test } from 'vitest'
import { IdleMonitor } from './idle-monitor.js'

/** An idle monitor over a hand-driven clock and worker state. */
function setup(options: { idleMs?: number } = {}) {
  const state = { now: 0, busy: 0, lastActivityMs: 0, nextWakeAt: null as number | null, idleCalls: 0 }
  const monitor = new IdleMonitor({
    idleMs: options.idleMs ?? 1_000,
    clock: () => state.now,
    probe: {
      busyCount: () => state.busy,
      lastActivityMs: () => state.lastActivityMs,
      nextWakeAt: async () => state.nextWakeAt,
    },
    onIdle: async () => {
      state.idleCalls += 1
      return true
    },
  })
  return { state, monitor }
}

test('a worker with nothing to do is idle once idleMs has passed', async () => {
  const { state, monitor } = setup()
  state.now = 999
  await monitor.check()
  expect(state.idleCalls).toBe(0)
  state.now = 1_000
  await monitor.check()
  expect(state.idleCalls).toBe(1)
})

test('a stream of short requests keeps the worker up even when no check sees one in flight', async () => {
  const { state, monitor } = setup()
  for (let t = 0; t < 10_000; t += 500) {
    state.now = t
    state.lastActivityMs = t - 20 // a request came and went just before each check
    await monitor.check()
  }
  expect(state.idleCalls).toBe(0)
})

test('work in progress at a check restarts the idle period', async () => {
  const { state, monitor } = setup()
  state.now = 900
  state.busy = 1
  await monitor.check()
  state.busy = 0
  state.now = 1_800
  await monitor.check()
  expect(state.idleCalls).toBe(0)
  state.now = 1_900
  await monitor.check()
  expect(state.idleCalls).toBe(1)
})

test('a timer due within idleMs keeps the worker up; a later one does not', async () => {
  const { state, monitor } = setup()
  state.now = 5_000
  state.nextWakeAt = 5_500
  await monitor.check()
  expect(state.idleCalls).toBe(0)
  state.nextWakeAt = 60_000
  await monitor.check()
  expect(state.idleCalls).toBe(1)
})
