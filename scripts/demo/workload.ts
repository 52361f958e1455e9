import type { RunRequest } from './crash-burst.js'

/** Phase one: a sweep whose `train` children cover a few learning rates. */
export const PHASE_ONE_LRS = [0.001, 0.01, 0.1, 1]
/** Phase two: `train` runs over a grid of learning rates and epoch counts. */
const BURST_LRS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3]
const BURST_EPOCHS = [2, 4, 6, 8]
/** Each burst run sleeps durably this long between its two phases (so some sleep through the crash). */
export const COOL_DOWN_MS = 1_000

/** The phase-one sweep (the example app's `sweep` workflow starts one `train` child per lr). */
export function phaseOneSweep(): RunRequest {
  return { workflow: 'sweep', input: { lrs: PHASE_ONE_LRS, epochs: 4 }, idempotencyKey: 'phase-one-sweep' }
}

/** `count` train runs over the grid; the idempotency keys make a resubmission start the same runs. */
export function burstRequests(count: number): RunRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    workflow: 'train',
    input: {
      lr: BURST_LRS[i % BURST_LRS.length],
      epochs: BURST_EPOCHS[Math.floor(i / BURST_LRS.length) % BURST_EPOCHS.length],
      coolDown: COOL_DOWN_MS,
    },
    idempotencyKey: `burst-${i}`,
  }))
}

/** How many metrics rows the burst writes: one per epoch of each run. */
export function metricRowsOf(requests: readonly RunRequest[]): number {
  return requests.reduce((sum, request) => sum + (request.input as { epochs: number }).epochs, 0)
}

/** The other tenant's small workload: a step that fails twice before it succeeds, and some quick runs. */
export function sandboxRequests(): RunRequest[] {
  return [
    { workflow: 'flaky', input: { failures: 2 }, idempotencyKey: 'flaky' },
    ...Array.from({ length: 20 }, (_, n) => ({ workflow: 'three-steps', input: { n }, idempotencyKey: `three-${n}` })),
  ]
}
