import { describe, expect, it } from 'vitest'
import { RecentDurations } from './recent-durations.js'

describe('RecentDurations', () => {
  it('counts the events of the window and reports their median', () => {
    let nowMs = 1_000_000
    const recent = new RecentDurations({ windowMs: 60_000, clock: () => nowMs })
    expect(recent.summary()).toEqual({ count: 0, p50Ms: null })
    for (const ms of [300, 100, 200]) recent.record(ms)
    expect(recent.summary()).toEqual({ count: 3, p50Ms: 200 })
    recent.record(400)
    expect(recent.summary()).toEqual({ count: 4, p50Ms: 250 })
  })

  it('forgets events older than the window', () => {
    let nowMs = 0
    const recent = new RecentDurations({ windowMs: 60_000, clock: () => nowMs })
    recent.record(1_000)
    nowMs = 30_000
    recent.record(10)
    nowMs = 61_000
    expect(recent.summary()).toEqual({ count: 1, p50Ms: 10 })
  })
})
