import type { RunDetail, StepKind, StepRecord } from './api-types.js'
import { formatDuration } from './format.js'

/** How a bar is drawn: what kind of time it stands for. */
export type BarTone = 'work' | 'retrying' | 'failed' | 'sleep' | 'event' | 'child' | 'value'

/** One step of a run, placed on the run's time axis (percentages of the axis width). */
export interface TimelineBar {
  readonly step: StepRecord
  readonly leftPct: number
  readonly widthPct: number
  readonly durationMs: number
  /** Still going (no end recorded): drawn up to now. */
  readonly isOpen: boolean
  readonly tone: BarTone
  /** What the bar says about itself, e.g. `3 attempts` or `sleep`. */
  readonly note: string
}

export interface TimelineTick {
  readonly pct: number
  readonly label: string
}

export interface TimelineLayout {
  readonly startMs: number
  readonly spanMs: number
  readonly bars: TimelineBar[]
  readonly ticks: TimelineTick[]
}

/** Narrowest bar drawn, so instant steps (`now`, `uuid`) stay visible and clickable. */
const MIN_WIDTH_PCT = 0.6
const VALUE_KINDS: ReadonlySet<StepKind> = new Set(['now', 'random', 'uuid'])

/**
 * Places every journal entry of a run (one bar per `ctx` call) on one time axis from the
 * run's creation to its end (or now, while it goes on), with round-numbered ticks.
 */
export function layoutTimeline(run: Pick<RunDetail, 'createdAt' | 'updatedAt' | 'status' | 'steps'>, nowMs: number): TimelineLayout {
  const isFinished = run.status === 'succeeded' || run.status === 'failed' || run.status === 'cancelled'
  const startMs = Math.min(Date.parse(run.createdAt), ...run.steps.map((step) => Date.parse(step.startedAt)))
  let endMs = isFinished ? Date.parse(run.updatedAt) : nowMs
  for (const step of run.steps) {
    if (step.endedAt) endMs = Math.max(endMs, Date.parse(step.endedAt))
  }
  const spanMs = Math.max(1, endMs - startMs)
  const bars = run.steps.map((step): TimelineBar => {
    const from = Date.parse(step.startedAt)
    const isOpen = step.endedAt === null
    const to = isOpen ? endMs : Date.parse(step.endedAt as string)
    const leftPct = ((from - startMs) / spanMs) * 100
    const widthPct = Math.max(MIN_WIDTH_PCT, ((to - from) / spanMs) * 100)
    return {
      step,
      leftPct: Math.min(leftPct, 100 - MIN_WIDTH_PCT),
      widthPct: Math.min(widthPct, 100 - Math.min(leftPct, 100 - MIN_WIDTH_PCT)),
      durationMs: Math.max(0, to - from),
      isOpen,
      tone: toneOf(step),
      note: noteOf(step),
    }
  })
  return { startMs, spanMs, bars, ticks: ticksFor(spanMs) }
}

function toneOf(step: StepRecord): BarTone {
  if (step.status === 'failed') return 'failed'
  if (step.status === 'retrying') return 'retrying'
  switch (step.kind) {
    case 'sleep':
      return 'sleep'
    case 'event':
      return 'event'
    case 'child':
    case 'result':
      return 'child'
    case 'now':
    case 'random':
    case 'uuid':
      return 'value'
    default:
      return 'work'
  }
}

function noteOf(step: StepRecord): string {
  const notes: string[] = []
  if (step.kind === 'sleep') notes.push('durable sleep')
  else if (step.kind === 'event') notes.push(step.status === 'waiting' ? 'waiting for event' : 'event')
  else if (step.kind === 'child') notes.push('started child')
  else if (step.kind === 'result') notes.push(step.status === 'waiting' ? 'waiting for child' : 'child result')
  else if (VALUE_KINDS.has(step.kind)) notes.push(`recorded ${step.kind}`)
  else if (step.kind === 'transaction') notes.push('transaction')
  if (step.attempts > 1) notes.push(`${step.attempts} attempts (${step.attempts - 1} ${step.attempts === 2 ? 'retry' : 'retries'})`)
  if (step.status === 'retrying') notes.push('retrying')
  return notes.join(' · ')
}

/** About five ticks at 1, 2 or 5 × 10ⁿ ms, labelled relative to the run's start. */
export function ticksFor(spanMs: number): TimelineTick[] {
  const rough = spanMs / 5
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(rough, 1)))
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= rough) ?? magnitude * 10
  const ticks: TimelineTick[] = []
  for (let at = 0; at <= spanMs + 1e-9; at += step) {
    ticks.push({ pct: (at / spanMs) * 100, label: at === 0 ? '0' : `+${formatDuration(at).replace(/\.0 /, ' ')}` })
  }
  return ticks
}

/** Shown beside a bar: how long the step took. */
export function barDurationLabel(bar: TimelineBar): string {
  if (bar.tone === 'value') return ''
  if (!bar.isOpen && bar.durationMs < 1) return '<1 ms'
  return bar.isOpen ? `${formatDuration(bar.durationMs)}…` : formatDuration(bar.durationMs)
}
