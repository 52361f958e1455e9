import type { EngineObserver, RunStatus } from '@litecell/engine'
import type { MetricsDelta } from '@litecell/protocol'

/** Most step durations one heartbeat carries; counts stay exact beyond it. */
export const MAX_STEP_SAMPLES = 2_000

/**
 * Counts what the engine and the replicator do, as deltas the worker ships with each
 * heartbeat: the worker exposes no metrics endpoint of its own, so a scrape of the control
 * plane sees the whole fleet.
 */
export class WorkerMetrics {
  #delta: MetricsDelta = emptyDelta()

  /** The engine observer feeding these metrics (cheap: a few increments per event). */
  readonly observer: EngineObserver = {
    onRunStatus: (_runId, _workflow, status) => {
      this.#delta.runs[status] = (this.#delta.runs[status] ?? 0) + 1
    },
    onStepEnd: (_workflow, _step, durationMs) => {
      this.#delta.steps += 1
      if (this.#delta.stepMs.length < MAX_STEP_SAMPLES) this.#delta.stepMs.push(Math.round(durationMs * 1000) / 1000)
    },
  }

  /** Litestream died and was restarted. */
  replicationRestarted(): void {
    this.#delta.replicationRestarts += 1
  }

  /** Returns the delta since the last call and starts a new one. */
  take(): MetricsDelta {
    const delta = this.#delta
    this.#delta = emptyDelta()
    return delta
  }

  /** Puts back a delta whose heartbeat failed, so nothing is lost. */
  restore(delta: MetricsDelta): void {
    for (const [status, count] of Object.entries(delta.runs) as [RunStatus, number][]) {
      this.#delta.runs[status] = (this.#delta.runs[status] ?? 0) + count
    }
    this.#delta.steps += delta.steps
    this.#delta.stepMs.push(...delta.stepMs.slice(0, MAX_STEP_SAMPLES - this.#delta.stepMs.length))
    this.#delta.replicationRestarts += delta.replicationRestarts
  }
}

function emptyDelta(): MetricsDelta {
  return { runs: {}, stepMs: [], steps: 0, replicationRestarts: 0 }
}
