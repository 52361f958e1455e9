import type { ComponentChildren } from 'preact'
import { Fragment } from 'preact'
import type { RunDetail } from '../api-types.js'
import { barDurationLabel, layoutTimeline } from '../timeline.js'

/**
 * A run's steps on one time axis: one row and one bar per journal entry, coloured by what the
 * time was (work, retries, durable sleep, waiting for an event or a child, recorded values).
 * Clicking a row selects the step; `detail` is shown right under the selected row.
 */
export function StepTimeline(props: {
  run: RunDetail
  nowMs: number
  selectedSeq: number | null
  onSelect: (seq: number | null) => void
  detail?: ComponentChildren
}) {
  const layout = layoutTimeline(props.run, props.nowMs)
  if (layout.bars.length === 0) return <p class="muted">No steps recorded yet.</p>
  return (
    <div class="timeline" data-testid="timeline">
      <div class="timeline-axis">
        <div class="timeline-label-col" />
        <div class="timeline-track">
          {layout.ticks.map((tick) => (
            <span class="tick" key={tick.pct} style={{ left: `${tick.pct}%` }}>
              {tick.label}
            </span>
          ))}
        </div>
        <div class="timeline-duration-col" />
      </div>
      {layout.bars.map((bar) => (
        <Fragment key={bar.step.seq}>
        <button
          type="button"
          class={`timeline-row${props.selectedSeq === bar.step.seq ? ' is-selected' : ''}`}
          data-seq={bar.step.seq}
          data-kind={bar.step.kind}
          aria-expanded={props.selectedSeq === bar.step.seq}
          onClick={() => props.onSelect(props.selectedSeq === bar.step.seq ? null : bar.step.seq)}
          title={`#${bar.step.seq} ${bar.step.name} (${bar.step.kind}, ${bar.step.status})${bar.note ? ` — ${bar.note}` : ''}`}
        >
          <span class="timeline-label-col">
            <span class="seq">{bar.step.seq}</span>
            <span class="step-name">{bar.step.name}</span>
            <span class="step-kind">{bar.step.kind}</span>
          </span>
          <span class="timeline-track">
            {layout.ticks.map((tick) => (
              <span class="gridline" key={tick.pct} style={{ left: `${tick.pct}%` }} />
            ))}
            <span
              class={`bar bar-${bar.tone}${bar.isOpen ? ' bar-open' : ''}`}
              data-testid="timeline-bar"
              style={{ left: `${bar.leftPct}%`, width: `${bar.widthPct}%` }}
            />
            {bar.step.attempts > 1 && (
              <span class="attempts" style={{ left: `calc(${bar.leftPct + bar.widthPct}% + 4px)` }}>
                ×{bar.step.attempts}
              </span>
            )}
          </span>
          <span class="timeline-duration-col">{barDurationLabel(bar)}</span>
        </button>
        {props.selectedSeq === bar.step.seq && props.detail}
        </Fragment>
      ))}
      <div class="legend">
        {(
          [
            ['work', 'step / transaction'],
            ['retrying', 'retrying'],
            ['failed', 'failed'],
            ['sleep', 'durable sleep'],
            ['event', 'waiting for event'],
            ['child', 'child run'],
            ['value', 'recorded value'],
          ] as const
        ).map(([tone, label]) => (
          <span class="legend-item" key={tone}>
            <span class={`swatch bar-${tone}`} />
            {label}
          </span>
        ))}
      </div>
    </div>
  )
}
