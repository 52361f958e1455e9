import { expect, test } from 'vitest'
import type { RunDetail } from '@litecell/client'
import { TIMELINE_WIDTH, timelineRows } from './run-timeline.js'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')
const at = (ms: number) => new Date(T0 + ms).toISOString()

function run(steps: RunDetail['steps']): RunDetail {
  return {
    runId: 'r1',
    workflow: 'w',
    status: 'running',
    createdAt: at(0),
    updatedAt: at(1000),
    input: null,
    output: null,
    error: null,
    appVersion: 'v1',
    steps,
  }
}

test('each step gets a bar placed on the run time axis, with its duration', () => {
  const rows = timelineRows(
    run([
      {
        seq: 1,
        name: 'fetch',
        kind: 'step',
        status: 'succeeded',
        attempts: 1,
        startedAt: at(0),
        endedAt: at(500),
      },
      {
        seq: 2,
        name: 'save',
        kind: 'step',
        status: 'succeeded',
        attempts: 2,
        startedAt: at(500),
        endedAt: at(1000),
      },
    ]),
  )
  expect(rows.map((row) => row.slice(0, 5))).toEqual([
    [1, 'fetch', 'succeeded', 1, '500ms'],
    [2, 'save', 'succeeded', 2, '500ms'],
  ])
  const half = TIMELINE_WIDTH / 2
  expect(rows[0]?.[5]).toBe('█'.repeat(half))
  expect(rows[1]?.[5]).toBe(`${' '.repeat(half)}${'█'.repeat(half)}`)
})

test('a step still going is drawn light up to now; a step not started has no bar', () => {
  const rows = timelineRows(
    run([
      { seq: 1, name: 'sleep', kind: 'sleep', status: 'sleeping', attempts: 0, startedAt: at(0), endedAt: null },
      // No engine sends such a step; the CLI still draws none rather than failing.
      { seq: 2, name: 'later', kind: 'event', status: 'waiting', attempts: 0, startedAt: null as never, endedAt: null },
    ]),
    T0 + 2000,
  )
  expect(rows[0]?.[4]).toBe('2.0s')
  expect(rows[0]?.[5]).toBe('░'.repeat(TIMELINE_WIDTH))
  expect(rows[1]?.slice(4)).toEqual(['-', ''])
})
