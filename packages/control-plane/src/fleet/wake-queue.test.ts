import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ControlPlaneError } from '../control-plane-error.js'
import { WakeQueue } from './wake-queue.js'

/**
 * The fair queue in front of worker slots, over a stand-in fleet (a count of workers and a
 * log of hand-over requests) and fake timers: what it promises is order, the wait bound, the
 * 429 past it, and asking for hand-overs only while wakes wait on a full fleet. It catches a
 * queue that lets a later wake overtake an earlier one, refuses before the bound (or never),
 * or starts more workers at once than `maxStarting`.
 */
class StandInFleet {
  workers = 0
  starting = 0
  stoppingCount = 0
  readonly handOvers: number[] = []
  readonly capacity = {
    used: () => this.workers,
    starting: () => this.starting,
    stopping: () => this.stoppingCount,
    handOver: (count: number) => void this.handOvers.push(count),
  }
}

function queueOf(
  fleet: StandInFleet,
  options: { maxWorkers: number; maxStarting?: number; waitMs?: number },
) {
  return new WakeQueue({ ...options, clock: Date.now, capacity: fleet.capacity })
}

/** Acquires for the tenant and, once granted, launches its worker (as the fleet does). */
function wake(
  queue: WakeQueue,
  fleet: StandInFleet,
  tenantId: string,
  granted: string[],
): Promise<void> {
  return queue.acquire(tenantId).then(() => {
    granted.push(tenantId)
    fleet.workers += 1
    queue.launched()
  })
}

describe('WakeQueue', () => {
  beforeEach(() => void vi.useFakeTimers())
  afterEach(() => void vi.useRealTimers())

  it('grants waiting wakes in arrival order as slots free up', async () => {
    const fleet = new StandInFleet()
    const queue = queueOf(fleet, { maxWorkers: 2, maxStarting: 10 })
    const granted: string[] = []
    const wakes = ['a', 'b', 'c', 'd', 'e'].map((id) => wake(queue, fleet, id, granted))
    await vi.advanceTimersByTimeAsync(0)
    expect(granted).toEqual(['a', 'b'])
    expect(queue.waiting).toBe(3)
    for (const expected of [
      ['a', 'b', 'c'],
      ['a', 'b', 'c', 'd'],
      ['a', 'b', 'c', 'd', 'e'],
    ]) {
      fleet.workers -= 1 // a worker exited
      queue.pump()
      await vi.advanceTimersByTimeAsync(0)
      expect(granted).toEqual(expected)
    }
    await Promise.all(wakes)
    expect(queue.waiting).toBe(0)
  })

  it('never lets a new wake overtake the queue, even when a slot is free at that moment', async () => {
    const fleet = new StandInFleet()
    const queue = queueOf(fleet, { maxWorkers: 1, maxStarting: 10 })
    const granted: string[] = []
    void wake(queue, fleet, 'first', granted)
    void wake(queue, fleet, 'second', granted)
    await vi.advanceTimersByTimeAsync(0)
    fleet.workers = 0 // the slot frees, but nobody has told the queue yet
    void wake(queue, fleet, 'late', granted)
    await vi.advanceTimersByTimeAsync(0)
    expect(granted).toEqual(['first', 'second'])
  })

  it('starts at most maxStarting workers at once; the rest wait for one to be ready', async () => {
    const fleet = new StandInFleet()
    const queue = queueOf(fleet, { maxWorkers: 10, maxStarting: 2 })
    const granted: string[] = []
    const launch = (id: string) =>
      queue.acquire(id).then(() => {
        granted.push(id)
        fleet.workers += 1
        fleet.starting += 1
        queue.launched()
      })
    for (const id of ['a', 'b', 'c', 'd']) void launch(id)
    await vi.advanceTimersByTimeAsync(0)
    expect(granted).toEqual(['a', 'b'])
    fleet.starting -= 1 // one became ready
    queue.pump()
    await vi.advanceTimersByTimeAsync(0)
    expect(granted).toEqual(['a', 'b', 'c'])
  })

  it('refuses with OVER_CAPACITY and a Retry-After once a wake waited waitMs, not before', async () => {
    const fleet = new StandInFleet()
    fleet.workers = 1
    const queue = queueOf(fleet, { maxWorkers: 1, maxStarting: 1, waitMs: 60_000 })
    const outcome = queue.acquire('late').then(
      () => 'granted',
      (err: unknown) => err,
    )
    await vi.advanceTimersByTimeAsync(59_000)
    expect(queue.waiting).toBe(1)
    await vi.advanceTimersByTimeAsync(1_000)
    const err = await outcome
    expect(err).toBeInstanceOf(ControlPlaneError)
    expect((err as ControlPlaneError).code).toBe('OVER_CAPACITY')
    expect((err as ControlPlaneError).retryAfterSeconds).toBeGreaterThanOrEqual(1)
    expect(queue.waiting).toBe(0)
  })

  it('asks for hand-overs only while wakes wait on a full fleet, net of workers already stopping', async () => {
    const fleet = new StandInFleet()
    fleet.workers = 3
    const queue = queueOf(fleet, { maxWorkers: 3, maxStarting: 3 })
    const granted: string[] = []
    for (const id of ['a', 'b']) void wake(queue, fleet, id, granted)
    await vi.advanceTimersByTimeAsync(0)
    expect(fleet.handOvers.at(-1)).toBe(2)
    fleet.stoppingCount = 1 // one idle worker accepted: one more is wanted
    fleet.handOvers.length = 0
    await vi.advanceTimersByTimeAsync(250) // the queue looks again by itself
    expect(fleet.handOvers.at(-1)).toBe(1)
    fleet.workers = 1 // two workers exited
    fleet.stoppingCount = 0
    fleet.handOvers.length = 0
    queue.pump()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(granted).toEqual(['a', 'b'])
    expect(fleet.handOvers).toEqual([])
  })

  it('grants at once without queueing when there is room', async () => {
    const fleet = new StandInFleet()
    const queue = queueOf(fleet, { maxWorkers: 4 })
    await queue.acquire('a')
    queue.launched()
    expect(queue.waiting).toBe(0)
    expect(fleet.handOvers).toEqual([])
  })

  it('withdraws a waiting wake at once (its tenant is being deleted) and keeps the others in order', async () => {
    // Catches: a delete that waits up to waitMs behind a full fleet for its tenant's queued wake.
    const fleet = new StandInFleet()
    fleet.workers = 1
    const queue = queueOf(fleet, { maxWorkers: 1, maxStarting: 10, waitMs: 60_000 })
    const granted: string[] = []
    const doomed = wake(queue, fleet, 'doomed', granted).catch((err: unknown) => err)
    const next = wake(queue, fleet, 'next', granted)
    queue.withdraw('doomed', new ControlPlaneError('TENANT_NOT_FOUND', 'no tenant doomed'))
    expect(await doomed).toMatchObject({ code: 'TENANT_NOT_FOUND' })
    expect(queue.waiting).toBe(1)
    queue.withdraw('absent', new Error('unused'))
    fleet.workers = 0
    queue.pump()
    await next
    expect(granted).toEqual(['next'])
  })
})
