import type { RunStatus } from './run.js'

/**
 * Optional callbacks for metrics (e.g. Prometheus counters in the worker). They run
 * synchronously on the engine's hot path, so keep them cheap and never throw from them; an
 * absent observer costs nothing.
 */
export interface EngineObserver {
  /** A run moved to `status` (after the change is committed). */
  onRunStatus?(runId: string, workflow: string, status: RunStatus): void
  /** A step (or transaction) attempt ended; `ok` is false for failed attempts. */
  onStepEnd?(workflow: string, stepName: string, durationMs: number, ok: boolean): void
  /** A group commit committed `writes` statements in one transaction open `durationMs`. */
  onCommit?(writes: number, durationMs: number): void
}
