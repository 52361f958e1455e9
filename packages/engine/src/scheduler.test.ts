import Libsql from 'libsql'
import { afterEach, describe, expect, it } from 'vitest'
import { defineApp, type AppDefinition } from './app.js'
import type { Engine } from './engine.js'
import type { EngineError } from './engine-error.js'
import { MAX_OWED_FIRES } from './schedule.js'
import { cleanup, ManualClock, openTestEngine, reopen } from '@litecell/testkit/engine'

afterEach(cleanup)

const MINUTE = 60_000
const T0 = Date.UTC(2026, 0, 1) // a Thursday, 00:00 UTC

/** `hold` waits for an event, so its runs stay unfinished until `release` is sent. */
const app = defineApp({
  workflows: {
    tick: async (ctx, input) => ctx.step('tick', () => input),
    hold: async (ctx) => ctx.waitForEvent('release'),
  },
})

interface FiredRun {
  run_id: string
  status: string
  idempotency_key: string | null
  input: string
}

/** The runs a schedule started, oldest first, read straight from the file. */
function firedRuns(path: string, scheduleId: string): FiredRun[] {
  const db = new Libsql(path, { readonly: true })
  try {
    return db
      .prepare(
        'SELECT run_id, status, idempotency_key, input FROM lc_runs WHERE idempotency_key LIKE ? ORDER BY id',
      )
      .all(`schedule:${scheduleId}:%`) as FiredRun[]
  } finally {
    db.close()
  }
}

function fireTimes(path: string, scheduleId: string): string[] {
  return firedRuns(path, scheduleId).map((run) =>
    (run.idempotency_key as string).slice(`schedule:${scheduleId}:`.length),
  )
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (error) {
    return (error as EngineError).code
  }
  return undefined
}

async function errorOf(promise: Promise<unknown>): Promise<EngineError> {
  try {
    await promise
  } catch (error) {
    return error as EngineError
  }
  throw new Error('expected a rejection')
}

async function at(engine: Engine, clock: ManualClock, ms: number): Promise<void> {
  clock.nowMs = ms
  await engine.idle()
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}

describe('schedules', () => {
  it('fires once per fire time, with an idempotency key of the schedule and the fire time', async () => {
    const clock = new ManualClock(T0 + 10_000)
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    const created = await engine.schedules.create({
      id: 'every-minute',
      cron: '* * * * *',
      workflow: 'tick',
      input: { n: 1 },
    })
    expect(created).toMatchObject({
      id: 'every-minute',
      source: 'api',
      paused: false,
      nextFireAt: iso(T0 + MINUTE),
    })
    await at(engine, clock, T0 + MINUTE - 1)
    expect(fireTimes(path, 'every-minute')).toEqual([])
    await at(engine, clock, T0 + MINUTE)
    await at(engine, clock, T0 + MINUTE + 30_000)
    await at(engine, clock, T0 + 2 * MINUTE + 5)
    expect(fireTimes(path, 'every-minute')).toEqual([iso(T0 + MINUTE), iso(T0 + 2 * MINUTE)])
    const runs = firedRuns(path, 'every-minute')
    expect(runs.map((run) => [run.status, JSON.parse(run.input)])).toEqual([
      ['succeeded', { n: 1 }],
      ['succeeded', { n: 1 }],
    ])
    expect(await engine.schedules.get('every-minute')).toMatchObject({
      nextFireAt: iso(T0 + 3 * MINUTE),
      lastFireAt: iso(T0 + 2 * MINUTE),
      lastRunId: runs[1]?.run_id,
      lastError: null,
    })
  })

  it('includes the next fire time in nextWakeAt, so a hibernated tenant is woken for it', async () => {
    const clock = new ManualClock(T0)
    const { engine } = await openTestEngine(app, { clock: clock.now })
    expect(await engine.nextWakeAt()).toBeNull()
    await engine.schedules.create({
      id: 'nightly',
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      workflow: 'tick',
    })
    // 03:00 in Berlin in winter is 02:00 UTC.
    expect(await engine.nextWakeAt()).toBe(T0 + 2 * 60 * MINUTE)
    await engine.schedules.pause('nightly')
    expect(await engine.nextWakeAt()).toBeNull()
  })

  it('syncs the app schedules at every open: added, changed, removed, pause kept', async () => {
    const clock = new ManualClock(T0)
    const v1 = defineApp({
      ...app,
      schedules: {
        hourly: { cron: '0 * * * *', workflow: 'tick' },
        daily: { cron: '0 0 * * *', workflow: 'tick' },
      },
    })
    const { engine, path } = await openTestEngine(v1, { clock: clock.now })
    expect((await engine.schedules.list()).map((s) => [s.id, s.source, s.nextFireAt])).toEqual([
      ['daily', 'app', iso(T0 + 24 * 60 * MINUTE)],
      ['hourly', 'app', iso(T0 + 60 * MINUTE)],
    ])
    await engine.schedules.pause('hourly')
    await engine.close()
    clock.advance(10 * MINUTE)
    const v2 = defineApp({
      ...app,
      schedules: {
        hourly: { cron: '0 * * * *', workflow: 'tick', input: 'changed' },
        minutely: { cron: '* * * * *', workflow: 'tick', overlap: 'allow' },
      },
    })
    const again = await reopen(path, v2, { clock: clock.now })
    expect(await again.schedules.list()).toMatchObject([
      { id: 'hourly', input: 'changed', paused: true, nextFireAt: null },
      { id: 'minutely', overlap: 'allow', nextFireAt: iso(T0 + 11 * MINUTE) },
    ])
    expect(await codeOf(again.schedules.delete('minutely'))).toBe('INVALID_STATE')
  })

  it('validates schedules: the cron parser says what is wrong, and nothing is written', async () => {
    const clock = new ManualClock(T0)
    const { engine } = await openTestEngine(app, { clock: clock.now })
    const badCron = await errorOf(
      engine.schedules.create({ id: 'a', cron: '61 * * * *', workflow: 'tick' }),
    )
    expect(badCron.code).toBe('INVALID_INPUT')
    expect(badCron.message).toContain('Invalid value for minute: 61')
    const fields = await errorOf(
      engine.schedules.create({ id: 'a', cron: '* * *', workflow: 'tick' }),
    )
    expect(fields.message).toMatch(
      /Expected `cron`.*got `\* \* \*` \(string\).*five, six, or seven/,
    )
    const zone = await errorOf(
      engine.schedules.create({
        id: 'a',
        cron: '* * * * *',
        timezone: 'Mars/Olympus',
        workflow: 'tick',
      }),
    )
    expect(zone.message).toMatch(/Expected `timezone`.*`Mars\/Olympus`.*Invalid time zone/)
    const never = await errorOf(
      engine.schedules.create({ id: 'a', cron: '0 0 30 2 *', workflow: 'tick' }),
    )
    expect(never.message).toContain('matches no future date')
    expect(
      await codeOf(engine.schedules.create({ id: 'a', cron: '* * * * *', workflow: 'nope' })),
    ).toBe('UNKNOWN_WORKFLOW')
    expect(
      await codeOf(engine.schedules.create({ id: 'a b', cron: '* * * * *', workflow: 'tick' })),
    ).toBe('INVALID_INPUT')
    const overlap = { id: 'a', cron: '* * * * *', workflow: 'tick', overlap: 'never' } as never
    expect(await codeOf(engine.schedules.create(overlap))).toBe('INVALID_INPUT')
    const catchUp = { id: 'a', cron: '* * * * *', workflow: 'tick', catchUp: 'some' } as never
    expect(await codeOf(engine.schedules.create(catchUp))).toBe('INVALID_INPUT')
    expect(await engine.schedules.list()).toEqual([])
    await engine.schedules.create({ id: 'a', cron: '* * * * *', workflow: 'tick' })
    expect(
      await codeOf(engine.schedules.create({ id: 'a', cron: '0 * * * *', workflow: 'tick' })),
    ).toBe('SCHEDULE_EXISTS')
    expect(await codeOf(engine.schedules.get('missing'))).toBe('SCHEDULE_NOT_FOUND')
    expect(await codeOf(engine.schedules.trigger('missing'))).toBe('SCHEDULE_NOT_FOUND')
  })

  it('refuses an app whose schedule is invalid or names a workflow it lacks', () => {
    expect(() =>
      defineApp({ ...app, schedules: { x: { cron: 'nope', workflow: 'tick' } } }),
    ).toThrow(/app\.schedules\.x\.cron/)
    expect(() =>
      defineApp({ ...app, schedules: { x: { cron: '* * * * *', workflow: 'gone' } } }),
    ).toThrow(/app\.schedules\.x\.workflow/)
  })

  it('pause stops fires and resume continues from the first fire time after now', async () => {
    const clock = new ManualClock(T0)
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    await engine.schedules.create({ id: 's', cron: '* * * * *', workflow: 'tick' })
    expect(await engine.schedules.pause('s')).toMatchObject({ paused: true, nextFireAt: null })
    await at(engine, clock, T0 + 5 * MINUTE)
    expect(fireTimes(path, 's')).toEqual([])
    expect(await engine.schedules.resume('s')).toMatchObject({
      paused: false,
      nextFireAt: iso(T0 + 6 * MINUTE),
    })
    await at(engine, clock, T0 + 6 * MINUTE)
    expect(fireTimes(path, 's')).toEqual([iso(T0 + 6 * MINUTE)])
  })

  it('deletes an API schedule; its runs stay', async () => {
    const clock = new ManualClock(T0)
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    await engine.schedules.create({ id: 's', cron: '* * * * *', workflow: 'tick' })
    await at(engine, clock, T0 + MINUTE)
    await engine.schedules.delete('s')
    await at(engine, clock, T0 + 3 * MINUTE)
    expect(fireTimes(path, 's')).toEqual([iso(T0 + MINUTE)])
    expect(await engine.schedules.list()).toEqual([])
    expect(await codeOf(engine.schedules.delete('s'))).toBe('SCHEDULE_NOT_FOUND')
  })

  describe('overlap', () => {
    async function withHeldRun(overlap: 'skip' | 'allow' | 'queue') {
      const clock = new ManualClock(T0)
      const { engine, path } = await openTestEngine(app, { clock: clock.now })
      await engine.schedules.create({ id: 's', cron: '* * * * *', workflow: 'hold', overlap })
      await at(engine, clock, T0 + MINUTE)
      await at(engine, clock, T0 + 2 * MINUTE)
      await at(engine, clock, T0 + 3 * MINUTE)
      return { engine, path, clock }
    }

    it('skip starts nothing while the previous fire’s run is unfinished', async () => {
      const { engine, path, clock } = await withHeldRun('skip')
      const runs = firedRuns(path, 's')
      expect(fireTimes(path, 's')).toEqual([iso(T0 + MINUTE)])
      expect(await engine.schedules.get('s')).toMatchObject({
        lastFireAt: iso(T0 + 3 * MINUTE),
        lastRunId: runs[0]?.run_id,
      })
      await engine.sendEvent(runs[0]?.run_id as string, 'release')
      await engine.idle()
      await at(engine, clock, T0 + 4 * MINUTE)
      expect(fireTimes(path, 's')).toEqual([iso(T0 + MINUTE), iso(T0 + 4 * MINUTE)])
    })

    it('allow starts a run for every fire', async () => {
      const { path } = await withHeldRun('allow')
      expect(fireTimes(path, 's')).toEqual([
        iso(T0 + MINUTE),
        iso(T0 + 2 * MINUTE),
        iso(T0 + 3 * MINUTE),
      ])
    })

    it('queue starts each fire once the previous run ended, in fire order', async () => {
      const { engine, path } = await withHeldRun('queue')
      expect(fireTimes(path, 's')).toEqual([iso(T0 + MINUTE)])
      // The queued fire is the schedule's next, but it waits for a run: no timer is due for it.
      expect((await engine.schedules.get('s')).nextFireAt).toBe(iso(T0 + 2 * MINUTE))
      expect(await engine.nextWakeAt()).toBeNull()
      await engine.sendEvent(firedRuns(path, 's')[0]?.run_id as string, 'release')
      await engine.idle()
      expect(fireTimes(path, 's')).toEqual([iso(T0 + MINUTE), iso(T0 + 2 * MINUTE)])
      await engine.sendEvent(firedRuns(path, 's')[1]?.run_id as string, 'release')
      await engine.idle()
      expect(fireTimes(path, 's')).toEqual([
        iso(T0 + MINUTE),
        iso(T0 + 2 * MINUTE),
        iso(T0 + 3 * MINUTE),
      ])
      expect((await engine.schedules.get('s')).nextFireAt).toBe(iso(T0 + 4 * MINUTE))
    })

    it('queue keeps its queued fires across a close and continues them after the next open', async () => {
      const { engine, path, clock } = await withHeldRun('queue')
      await engine.close()
      const again = await reopen(path, app, { clock: clock.now })
      expect(fireTimes(path, 's')).toEqual([iso(T0 + MINUTE)])
      await again.sendEvent(firedRuns(path, 's')[0]?.run_id as string, 'release')
      await again.idle()
      expect(fireTimes(path, 's')).toEqual([iso(T0 + MINUTE), iso(T0 + 2 * MINUTE)])
    })

    it('a cancelled previous run releases a queued fire too', async () => {
      const { engine, path } = await withHeldRun('queue')
      await engine.cancel(firedRuns(path, 's')[0]?.run_id as string)
      await engine.idle()
      expect(fireTimes(path, 's')).toEqual([iso(T0 + MINUTE), iso(T0 + 2 * MINUTE)])
    })
  })

  describe('catch-up of fires missed while no process ran the tenant', () => {
    async function missFires(
      catchUp: 'latest' | 'all' | 'none',
      downMs: number,
      cron = '* * * * *',
    ) {
      const clock = new ManualClock(T0)
      const scheduled: AppDefinition = defineApp({
        ...app,
        schedules: { s: { cron, workflow: 'tick', catchUp, overlap: 'allow' } },
      })
      const { engine, path } = await openTestEngine(scheduled, { clock: clock.now })
      await at(engine, clock, (await engine.nextWakeAt()) as number)
      await engine.close()
      clock.advance(downMs)
      const again = await reopen(path, scheduled, { clock: clock.now })
      await again.idle()
      return { path, again, clock }
    }

    it('latest (the default) starts the most recent missed fire only', async () => {
      const { path, again } = await missFires('latest', 10 * MINUTE + 30_000)
      expect(fireTimes(path, 's')).toEqual([iso(T0 + MINUTE), iso(T0 + 11 * MINUTE)])
      expect((await again.schedules.get('s')).nextFireAt).toBe(iso(T0 + 12 * MINUTE))
    })

    it('all starts every missed fire, oldest first', async () => {
      const { path } = await missFires('all', 5 * MINUTE)
      expect(fireTimes(path, 's')).toEqual([1, 2, 3, 4, 5, 6].map((m) => iso(T0 + m * MINUTE)))
    })

    it(`all starts at most the latest ${MAX_OWED_FIRES} missed fires`, async () => {
      const { path } = await missFires('all', 3 * 60 * MINUTE)
      const times = fireTimes(path, 's')
      expect(times).toHaveLength(1 + MAX_OWED_FIRES)
      expect(times.at(-1)).toBe(iso(T0 + 181 * MINUTE))
      expect(times[1]).toBe(iso(T0 + (181 - MAX_OWED_FIRES + 1) * MINUTE))
    })

    it('none starts only fires at most a minute late (a wake for the fire itself)', async () => {
      // Every 5 minutes, first fire at 00:05; down until 00:20:30, then until 00:22:00.
      const late = await missFires('none', 15 * MINUTE + 30_000, '*/5 * * * *')
      expect(fireTimes(late.path, 's')).toEqual([iso(T0 + 5 * MINUTE), iso(T0 + 20 * MINUTE)])
      const missed = await missFires('none', 17 * MINUTE, '*/5 * * * *')
      expect(fireTimes(missed.path, 's')).toEqual([iso(T0 + 5 * MINUTE)])
      expect((await missed.again.schedules.get('s')).nextFireAt).toBe(iso(T0 + 25 * MINUTE))
    })
  })

  it('a fire whose run committed starts no second run at later opens', async () => {
    const clock = new ManualClock(T0)
    const scheduled = defineApp({
      ...app,
      schedules: { s: { cron: '* * * * *', workflow: 'hold', overlap: 'allow', catchUp: 'all' } },
    })
    const { engine, path } = await openTestEngine(scheduled, { clock: clock.now })
    await at(engine, clock, T0 + MINUTE)
    await engine.close()
    for (let i = 0; i < 3; i++) {
      const again = await reopen(path, scheduled, { clock: clock.now })
      await again.idle()
      await again.close()
    }
    expect(fireTimes(path, 's')).toEqual([iso(T0 + MINUTE)])
  })

  it('trigger starts one run now and makes it the latest run for overlap', async () => {
    const clock = new ManualClock(T0)
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    await engine.schedules.create({ id: 's', cron: '* * * * *', workflow: 'hold', input: 'x' })
    const { runId } = await engine.schedules.trigger('s')
    expect(await engine.get(runId)).toMatchObject({ workflow: 'hold', input: 'x' })
    expect((await engine.schedules.get('s')).lastRunId).toBe(runId)
    await at(engine, clock, T0 + MINUTE)
    // overlap 'skip' (the default) sees the triggered run unfinished.
    expect(fireTimes(path, 's')).toEqual([])
    const again = await engine.schedules.trigger('s', { idempotencyKey: 'k' })
    expect((await engine.schedules.trigger('s', { idempotencyKey: 'k' })).runId).toBe(again.runId)
  })

  it('backfill starts a run per fire time in [from, to), each once, and caps the count', async () => {
    const clock = new ManualClock(T0 + 10 * 60 * MINUTE)
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    await engine.schedules.create({ id: 'h', cron: '0 * * * *', workflow: 'tick' })
    const first = await engine.schedules.backfill('h', {
      from: iso(T0 + 30 * MINUTE),
      to: iso(T0 + 3 * 60 * MINUTE),
    })
    expect(first.runIds).toHaveLength(2)
    expect(fireTimes(path, 'h')).toEqual([iso(T0 + 60 * MINUTE), iso(T0 + 120 * MINUTE)])
    const overlapping = await engine.schedules.backfill('h', {
      from: T0,
      to: T0 + 3 * 60 * MINUTE + 1,
    })
    expect(overlapping.runIds.slice(1, 3)).toEqual(first.runIds)
    expect(fireTimes(path, 'h')).toHaveLength(4)
    // Fire times later than now are left to the cron.
    const future = await engine.schedules.backfill('h', {
      from: T0 + 9 * 60 * MINUTE + 1,
      to: T0 + 20 * 60 * MINUTE,
    })
    expect(future.runIds).toHaveLength(1)
    const tooMany = await errorOf(
      engine.schedules.backfill('h', { from: iso(T0 - 60 * 24 * 60 * MINUTE), to: iso(T0) }),
    )
    expect(tooMany.code).toBe('INVALID_INPUT')
    expect(tooMany.message).toMatch(/more than 1000 fire times of `0 \* \* \* \*`; split it/)
    expect(await codeOf(engine.schedules.backfill('h', { from: iso(T0), to: iso(T0) }))).toBe(
      'INVALID_INPUT',
    )
    expect(await codeOf(engine.schedules.backfill('h', { from: 'yesterday', to: iso(T0) }))).toBe(
      'INVALID_INPUT',
    )
    await engine.idle()
    expect(fireTimes(path, 'h')).toHaveLength(5)
  })

  it('records why a fire could not start a run and keeps firing', async () => {
    const clock = new ManualClock(T0)
    const { engine, path } = await openTestEngine(app, { clock: clock.now })
    await engine.schedules.create({ id: 's', cron: '* * * * *', workflow: 'tick' })
    await engine.close()
    const without = defineApp({ workflows: { hold: app.workflows.hold as never } })
    const again = await reopen(path, without, { clock: clock.now })
    await at(again, clock, T0 + MINUTE)
    expect(await again.schedules.get('s')).toMatchObject({
      lastFireAt: iso(T0 + MINUTE),
      lastError: expect.stringContaining('no workflow named `tick`'),
      nextFireAt: iso(T0 + 2 * MINUTE),
    })
    expect(fireTimes(path, 's')).toEqual([])
    // A backfill cannot start them either, and starts none of the range.
    const backfill = again.schedules.backfill('s', { from: T0, to: T0 + MINUTE + 1 })
    expect(await codeOf(backfill)).toBe('UNKNOWN_WORKFLOW')
    expect(fireTimes(path, 's')).toEqual([])
  })
})
