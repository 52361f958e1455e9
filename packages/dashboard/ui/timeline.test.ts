import { describe, expect, it } from 'vitest'
import type { RunDetail, StepRecord } from './api-types.js'
import { layoutTimeline, ticksFor } from './timeline.js'

const T0 = Date.UTC(2026, 0, 1)
const at = (ms: number) => new Date(T0 + ms).toISOString()

function step(seq: number, kind: StepRecord['kind'], fromMs: number, toMs: number | null, extra: Partial<StepRecord> = {}): StepRecord {
  return { seq, name: `s${seq}`, kind, status: toMs === null ? 'running' : 'succeeded', attempts: 1, startedAt: at(fromMs), endedAt: toMs === null ? null : at(toMs), ...extra }
}

function run(steps: StepRecord[], status: RunDetail['status'] = 'succeeded', endMs = 1000): Pick<RunDetail, 'createdAt' | 'updatedAt' | 'status' | 'steps'> {
  return { createdAt: at(0), updatedAt: at(endMs), status, steps }
}

describe('layoutTimeline', () => {
  it('places one bar per step on the run-long axis', () => {
    const layout = layoutTimeline(run([step(1, 'step', 0, 250), step(2, 'sleep', 250, 750), step(3, 'now', 750, 750)]), T0 + 5000)
    expect(layout.bars).toHaveLength(3)
    expect(layout.spanMs).toBe(1000)
    expect(layout.bars.map((bar) => [bar.leftPct, bar.widthPct])).toEqual([
      [0, 25],
      [25, 50],
      [75, 0.6],
    ])
    expect(layout.bars.map((bar) => bar.tone)).toEqual(['work', 'sleep', 'value'])
  })

  it('draws a step still going up to now while the run goes on, and names retries', () => {
    const layout = layoutTimeline(run([step(1, 'step', 0, null, { status: 'retrying', attempts: 3 })], 'running'), T0 + 2000)
    const [bar] = layout.bars
    expect(bar).toMatchObject({ isOpen: true, tone: 'retrying', durationMs: 2000, widthPct: 100 })
    expect(bar!.note).toContain('3 attempts (2 retries)')
  })

  it('marks event waits and children as such', () => {
    const layout = layoutTimeline(run([step(1, 'event', 0, null, { status: 'waiting' }), step(2, 'child', 0, 10)], 'waiting'), T0 + 100)
    expect(layout.bars.map((bar) => [bar.tone, bar.note])).toEqual([
      ['event', 'waiting for event'],
      ['child', 'started child'],
    ])
  })
})

describe('ticksFor', () => {
  it('puts about five round ticks on the axis', () => {
    expect(ticksFor(1000).map((tick) => tick.label)).toEqual(['0', '+200 ms', '+400 ms', '+600 ms', '+800 ms', '+1 s'])
    expect(ticksFor(180_000).length).toBeLessThanOrEqual(7)
  })
})
