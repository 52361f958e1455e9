import { describe, expect, it } from 'vitest'
import { RunQueue, type Ticket } from './queue-admission.js'

/** A ticket whose execution lasts until `end()` is called. */
function ticket(
  name: string,
  priority: number,
  order: number,
  partition: string | null,
  log: string[],
): Ticket & { end: () => void } {
  let end = (): void => undefined
  return {
    priority,
    order,
    partition,
    start: () => {
      log.push(name)
      return new Promise<void>((resolve) => (end = resolve))
    },
    end: () => end(),
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('RunQueue', () => {
  it('admits by priority, lower first, and FIFO by order within a priority', async () => {
    const log: string[] = []
    const queue = new RunQueue({ concurrency: 1 })
    const first = ticket('first', 0, 1, null, log)
    queue.add(first)
    const waiting = new Map(
      [
        ticket('low-a', 5, 2, null, log),
        ticket('urgent-b', -1, 5, null, log),
        ticket('normal-c', 0, 3, null, log),
        ticket('urgent-a', -1, 4, null, log),
        ticket('low-b', 5, 6, null, log),
      ].map((t, i) => [['low-a', 'urgent-b', 'normal-c', 'urgent-a', 'low-b'][i] as string, t]),
    )
    for (const t of waiting.values()) queue.add(t)
    expect(log).toEqual(['first'])
    expect(queue.waiting).toBe(5)
    first.end()
    for (let i = 0; i < 5; i++) {
      await settle()
      waiting.get(log.at(-1) as string)?.end()
    }
    expect(log).toEqual(['first', 'urgent-a', 'urgent-b', 'normal-c', 'low-a', 'low-b'])
  })

  it('holds a full partition back without blocking other partitions behind it', async () => {
    const log: string[] = []
    const queue = new RunQueue({ concurrency: 3, partitionConcurrency: 1 })
    const a1 = ticket('a1', 0, 1, 'alice', log)
    const a2 = ticket('a2', 0, 2, 'alice', log)
    const a3 = ticket('a3', 0, 3, 'alice', log)
    const b1 = ticket('b1', 0, 4, 'bob', log)
    const free = ticket('free', 0, 5, null, log)
    for (const t of [a1, a2, a3, b1, free]) queue.add(t)
    expect(log).toEqual(['a1', 'b1', 'free'])
    expect(queue.running).toBe(3)
    free.end()
    b1.end()
    await settle()
    // Two slots free, but alice still has one running: her next run waits.
    expect(log).toEqual(['a1', 'b1', 'free'])
    a1.end()
    await settle()
    expect(log).toEqual(['a1', 'b1', 'free', 'a2'])
    a2.end()
    await settle()
    expect(log).toEqual(['a1', 'b1', 'free', 'a2', 'a3'])
    a3.end()
    await settle()
    expect(queue.running).toBe(0)
    expect(queue.waiting).toBe(0)
  })

  it('lets a higher-priority run of a full partition go first once its partition frees', async () => {
    const log: string[] = []
    const queue = new RunQueue({ concurrency: 1, partitionConcurrency: 1 })
    const a1 = ticket('a1', 0, 1, 'alice', log)
    queue.add(a1)
    queue.add(ticket('b-low', 9, 2, 'bob', log))
    queue.add(ticket('a-urgent', -9, 3, 'alice', log))
    a1.end()
    await settle()
    expect(log).toEqual(['a1', 'a-urgent'])
  })

  it('starts at most `limit` executions in any window of `periodMs`', async () => {
    const queue = new RunQueue({ concurrency: 10, rateLimit: { limit: 2, periodMs: 60 } })
    const started: number[] = []
    let allStarted = (): void => undefined
    const done = new Promise<void>((resolve) => (allStarted = resolve))
    for (let i = 0; i < 5; i++) {
      queue.add({
        priority: 0,
        order: i,
        partition: null,
        start: () => {
          if (started.push(performance.now()) === 5) allStarted()
          return Promise.resolve()
        },
      })
    }
    expect(started).toHaveLength(2)
    await done
    // Any three consecutive starts span at least one period.
    for (let i = 2; i < started.length; i++) {
      expect((started[i] as number) - (started[i - 2] as number)).toBeGreaterThanOrEqual(59)
    }
  })

  it('drops waiting tickets on clear and lets running ones end', async () => {
    const log: string[] = []
    const queue = new RunQueue({ concurrency: 1 })
    const running = ticket('running', 0, 1, null, log)
    queue.add(running)
    queue.add(ticket('queued', 0, 2, null, log))
    queue.clear()
    running.end()
    await settle()
    expect(log).toEqual(['running'])
    expect(queue.running).toBe(0)
  })
})
