import type { ApiLatencyOptions } from './api-latency.js'
import type { LifecycleSize } from './lifecycle.js'

const MB = 1024 * 1024

/** How big and how often each scenario runs, per mode. */
export interface BenchPlan {
  readonly mode: 'quick' | 'full' | 'wake' | 'api' | 'rss'
  /** `bench:engine` takes minutes: the quick mode skips it. */
  readonly engine: boolean
  readonly api: ApiLatencyOptions
  readonly sizes: readonly LifecycleSize[]
  readonly fleet: {
    readonly tenants: number
    readonly runsPerTenant: number
    readonly maxWorkers: number
    readonly repeats: number
    /**
     * Give every tenant a replica first (one run, then a verified hibernation), so each wake of
     * the burst restores from S3. Without it the tenants are hibernated but never ran.
     */
    readonly seed: boolean
    /** Tenants woken to measure RSS per active tenant. */
    readonly rssTenants: number
  }
}

/** The full benchmark of issue 6 (tens of minutes on 2 cores). */
export const FULL_PLAN: BenchPlan = {
  mode: 'full',
  engine: true,
  api: { warmupRuns: 2_000, sequentialRuns: 500, batchRuns: 2_000, repeats: 3 },
  sizes: [
    { label: '1 MB', bytes: 1 * MB, cycles: 20 },
    { label: '50 MB', bytes: 50 * MB, cycles: 5 },
    { label: '200 MB', bytes: 200 * MB, cycles: 3 },
  ],
  fleet: { tenants: 200, runsPerTenant: 20, maxWorkers: 16, repeats: 2, seed: true, rssTenants: 8 },
}

/** `--quick`: the same scenarios, small, for CI smoke use (under a minute; asserts correctness only). */
export const QUICK_PLAN: BenchPlan = {
  mode: 'quick',
  engine: false,
  api: { warmupRuns: 20, sequentialRuns: 15, batchRuns: 200, repeats: 2 },
  sizes: [
    { label: '1 MB', bytes: 1 * MB, cycles: 2 },
    { label: '2 MB', bytes: 2 * MB, cycles: 1 },
  ],
  // More tenants than workers, so eviction and waiting for a slot are exercised too.
  fleet: { tenants: 8, runsPerTenant: 5, maxWorkers: 4, repeats: 1, seed: false, rssTenants: 2 },
}

/**
 * `--wake` (issue 12): the wake and weight figures only: cold wakes and verified hibernations of
 * a 1 MB and a 50 MB tenant, RSS of active idle tenants, the control plane at rest.
 */
export const WAKE_PLAN: BenchPlan = {
  mode: 'wake',
  engine: false,
  api: { warmupRuns: 0, sequentialRuns: 0, batchRuns: 0, repeats: 0 },
  sizes: [
    { label: '1 MB', bytes: 1 * MB, cycles: 20 },
    { label: '50 MB', bytes: 50 * MB, cycles: 5 },
  ],
  fleet: { tenants: 4, runsPerTenant: 0, maxWorkers: 16, repeats: 0, seed: true, rssTenants: 4 },
}

/** `--api` (issue 12): the through-the-API figures only (scenario 2), at full size. */
export const API_PLAN: BenchPlan = {
  ...FULL_PLAN,
  mode: 'api',
  engine: false,
  sizes: [],
  fleet: { ...FULL_PLAN.fleet, tenants: 0, repeats: 0, seed: false, rssTenants: 0 },
}

/**
 * `--rss` (issue 12): scenario 6a only, the RSS of active idle tenants (4 seeded tenants, each
 * woken by 20 runs), for before/after comparisons of the worker's weight in a minute or two.
 */
export const RSS_PLAN: BenchPlan = {
  ...WAKE_PLAN,
  mode: 'rss',
  sizes: [],
}
