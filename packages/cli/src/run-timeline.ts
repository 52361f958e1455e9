import type { RunDetail, StepView } from '@litecell/client'
import { formatDuration, type Cell } from './output.js'

/** Width of a step's bar, in characters. */
export const TIMELINE_WIDTH = 30

/** Columns of the step timeline. */
export const TIMELINE_HEAD = ['seq', 'name', 'status', 'attempts', 'duration', 'timeline'] as const

/**
 * A run's steps as timeline rows: one per step, with a bar placed on a shared time axis from
 * the run's creation to its last step's end (or now, for a step still going), so waits and
 * sleeps between steps show as gaps.
 */
export function timelineRows(run: RunDetail, nowMs: number = Date.now()): Cell[][] {
  const startMs = Date.parse(run.createdAt)
  const spans = run.steps.map((step) => spanOf(step, nowMs))
  const endMs = Math.max(startMs + 1, ...spans.map((span) => span?.endMs ?? startMs))
  return run.steps.map((step, index) => {
    const span = spans[index]
    return [
      step.seq,
      step.name,
      step.status,
      step.attempts,
      span ? formatDuration(span.endMs - span.startMs) : '-',
      span ? bar(span, startMs, endMs, step.endedAt === null) : '',
    ]
  })
}

/** The wall time of a run so far, from creation to its last update. */
export function runDurationMs(run: RunDetail): number {
  return Date.parse(run.updatedAt) - Date.parse(run.createdAt)
}

function spanOf(step: StepView, nowMs: number): { startMs: number; endMs: number } | undefined {
  if (step.startedAt === null) return undefined
  const startMs = Date.parse(step.startedAt)
  const endMs = step.endedAt === null ? nowMs : Date.parse(step.endedAt)
  return Number.isNaN(startMs) || Number.isNaN(endMs)
    ? undefined
    : { startMs, endMs: Math.max(endMs, startMs) }
}

function bar(
  span: { startMs: number; endMs: number },
  axisStartMs: number,
  axisEndMs: number,
  open: boolean,
): string {
  const scale = TIMELINE_WIDTH / (axisEndMs - axisStartMs)
  const offset = clamp(Math.floor((span.startMs - axisStartMs) * scale), 0, TIMELINE_WIDTH - 1)
  const length = clamp(Math.round((span.endMs - span.startMs) * scale), 1, TIMELINE_WIDTH - offset)
  // A step still going is drawn light: its end is "now", not a recorded time.
  return `${' '.repeat(offset)}${(open ? '░' : '█').repeat(length)}`
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max)
}
