/**
 * Internal control-flow signals. A workflow never sees them as ordinary errors it can
 * recover from: the run context remembers that it was suspended or cancelled, so even a
 * user `catch` that swallows one cannot make the run continue (Absurd's `SuspendTask`).
 */

/** The run stops here and continues later by replay (sleep, wait, retry wait, close). */
export class SuspendSignal extends Error {
  override name = 'SuspendSignal'
  constructor(readonly reason: 'sleep' | 'wait' | 'retry' | 'close') {
    super(`run suspended (${reason}); this is engine control flow, do not catch it`)
  }
}

/** The run was cancelled; its status is already written. */
export class CancelSignal extends Error {
  override name = 'CancelSignal'
  constructor() {
    super('run cancelled; this is engine control flow, do not catch it')
  }
}
