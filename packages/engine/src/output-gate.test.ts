import Database from 'libsql'
import { afterEach, describe, expect, it } from 'vitest'
import { defineApp, type WorkflowFn } from './app.js'
import { GATE_RETRY_MS } from './output-gate.js'
import {
  cleanup,
  ManualClock,
  openTestEngine,
  reopen,
  runUntilQuiet,
  waitFor,
} from '@litecell/testkit/engine'

afterEach(cleanup)

function appOf(workflows: Record<string, WorkflowFn>) {
  return defineApp({ workflows })
}

/** A `confirmDurable` hook the test answers by hand, recording what was committed at each call. */
class ManualGate {
  readonly calls: { committedSteps: string[]; signal: AbortSignal }[] = []
  #pending: { resolve: () => void; reject: (error: Error) => void }[] = []
  path = ''

  readonly hook = (signal: AbortSignal): Promise<void> => {
    // What another connection sees is what is committed when the hook is asked.
    const db = new Database(this.path, { readonly: true })
    const rows = db.prepare('SELECT name FROM lc_steps ORDER BY seq').all() as { name: string }[]
    db.close()
    this.calls.push({ committedSteps: rows.map((row) => row.name), signal })
    return new Promise((resolve, reject) => {
      this.#pending.push({ resolve, reject })
      signal.addEventListener('abort', () => reject(signal.reason), { once: true })
    })
  }

  confirm(): void {
    for (const waiter of this.#pending.splice(0)) waiter.resolve()
  }

  refuse(): void {
    for (const waiter of this.#pending.splice(0)) waiter.reject(new Error('STORAGE_UNAVAILABLE'))
  }
}

describe('ctx.step with gate: replicated', () => {
  // Catches: a gate that calls fn before the hook confirmed, or asks the hook before the run's
  // earlier checkpoint is committed (the hook would confirm a position without it).
  it('calls fn only after the hook confirmed, and asks it once the earlier checkpoints are committed', async () => {
    const gate = new ManualGate()
    const called: string[] = []
    const app = appOf({
      pay: async (ctx) => {
        const order = await ctx.step('reserve', () => 'order-1')
        await ctx.now()
        return ctx.step('charge', () => called.push(order), { gate: 'replicated' })
      },
    })
    const { engine, path } = await openTestEngine(app, { confirmDurable: gate.hook })
    gate.path = path
    const { runId } = await engine.start('pay')
    await waitFor(() => gate.calls.length === 1, { what: 'the gate to ask' })
    expect(gate.calls[0]!.committedSteps).toEqual(['reserve', 'now'])
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(called).toEqual([])
    expect((await engine.get(runId)).status).toBe('running')
    gate.confirm()
    expect(await engine.result(runId, { waitMs: 5_000 })).toMatchObject({
      status: 'succeeded',
      output: 1,
    })
    expect(called).toEqual(['order-1'])
  })

  it('does not call fn while the hook refuses: the run sleeps and tries the gate again', async () => {
    const clock = new ManualClock()
    const gate = new ManualGate()
    let charges = 0
    const app = appOf({
      pay: async (ctx) => ctx.step('charge', () => ++charges, { gate: 'replicated' }),
    })
    const { engine, path } = await openTestEngine(app, {
      clock: clock.now,
      confirmDurable: gate.hook,
    })
    gate.path = path
    const { runId } = await engine.start('pay')
    await waitFor(() => gate.calls.length === 1, { what: 'the gate to ask' })
    gate.refuse()
    await engine.idle()
    const sleeping = await engine.get(runId)
    expect(sleeping.status).toBe('sleeping')
    expect(sleeping.steps).toEqual([]) // nothing recorded: the attempt count does not move
    expect(await engine.nextWakeAt()).toBe(clock.nowMs + GATE_RETRY_MS)
    expect(charges).toBe(0)

    clock.advance(GATE_RETRY_MS)
    const quiet = runUntilQuiet(engine, clock)
    await waitFor(() => gate.calls.length === 2, { what: 'the gate to ask again' })
    gate.confirm()
    await quiet
    expect(await engine.get(runId)).toMatchObject({ status: 'succeeded', output: 1 })
    expect(charges).toBe(1)
  })

  it('stops waiting when the engine closes, without calling fn; the next open gates again', async () => {
    const gate = new ManualGate()
    let charges = 0
    const app = appOf({
      pay: async (ctx) => ctx.step('charge', () => ++charges, { gate: 'replicated' }),
    })
    const { engine, path } = await openTestEngine(app, { confirmDurable: gate.hook })
    gate.path = path
    const { runId } = await engine.start('pay')
    await waitFor(() => gate.calls.length === 1, { what: 'the gate to ask' })
    await engine.close()
    expect(gate.calls[0]!.signal.aborted).toBe(true)
    expect(charges).toBe(0)

    const reopened = await reopen(path, app, { confirmDurable: gate.hook })
    await waitFor(() => gate.calls.length === 2, { what: 'the gate to ask after reopening' })
    gate.confirm()
    expect(await reopened.result(runId, { waitMs: 5_000 })).toMatchObject({
      status: 'succeeded',
    })
    expect(charges).toBe(1)
  })

  it('without a hook waits for the local commit only; a bad gate value fails the run', async () => {
    const app = appOf({
      gated: async (ctx) => ctx.step('s', () => 'done', { gate: 'replicated' }),
      badGate: async (ctx) => ctx.step('s', () => 'never', { gate: 'everywhere' as never }),
    })
    const { engine } = await openTestEngine(app)
    const gated = await engine.start('gated')
    expect(await engine.result(gated.runId, { waitMs: 5_000 })).toMatchObject({
      status: 'succeeded',
      output: 'done',
    })
    const bad = await engine.start('badGate')
    expect(await engine.result(bad.runId, { waitMs: 5_000 })).toMatchObject({
      status: 'failed',
      error: { message: expect.stringContaining("Expected `gate` to be 'replicated'") },
    })
  })
})
