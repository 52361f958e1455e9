import type { PatientApi } from './patient-api.js'

/** A run as `GET /v1/tenants/:id/runs` lists it. */
export interface RunSummary {
  runId: string
  workflow: string
  status: 'pending' | 'running' | 'sleeping' | 'waiting' | 'succeeded' | 'failed' | 'cancelled'
  createdAt: string
  updatedAt: string
}

/** Runs per page of the run list (the API's maximum). */
const PAGE_LIMIT = 1_000
const ENDED: ReadonlySet<RunSummary['status']> = new Set(['succeeded', 'failed', 'cancelled'])

/**
 * Follows a set of runs of one tenant through the paginated run list (newest first): one
 * cheap request per poll, however many runs, and nothing to lose when a worker dies
 * between two polls.
 */
export class RunTracker {
  readonly #api: PatientApi
  readonly #tenantId: string
  readonly #runs = new Map<string, RunSummary | null>()

  constructor(api: PatientApi, tenantId: string) {
    this.#api = api
    this.#tenantId = tenantId
  }

  /** Starts following these runs. */
  add(runIds: readonly string[]): void {
    for (const runId of runIds) if (!this.#runs.has(runId)) this.#runs.set(runId, null)
  }

  get size(): number {
    return this.#runs.size
  }

  /** Refreshes the status of every followed run that has not ended yet. */
  async poll(): Promise<void> {
    let open = [...this.#runs.values()].filter((run) => run === null || !ENDED.has(run.status)).length
    let cursor: string | null = null
    do {
      const query: string = `limit=${PAGE_LIMIT}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
      const page = await this.#api.get<{ runs: RunSummary[]; nextCursor: string | null }>(
        `/v1/tenants/${this.#tenantId}/runs?${query}`,
      )
      for (const run of page.runs) {
        const known = this.#runs.get(run.runId)
        if (known === undefined || (known !== null && ENDED.has(known.status))) continue
        this.#runs.set(run.runId, run)
        if (ENDED.has(run.status)) open -= 1
      }
      cursor = page.nextCursor
    } while (cursor && open > 0)
  }

  /** How many followed runs have ended, and how many of those did not succeed. */
  counts(): { ended: number; failed: number } {
    let ended = 0
    let failed = 0
    for (const run of this.#runs.values()) {
      if (run === null || !ENDED.has(run.status)) continue
      ended += 1
      if (run.status !== 'succeeded') failed += 1
    }
    return { ended, failed }
  }

  isDone(): boolean {
    return this.counts().ended === this.#runs.size
  }

  /** The followed runs as last seen (those never seen are left out). */
  runs(): RunSummary[] {
    return [...this.#runs.values()].filter((run): run is RunSummary => run !== null)
  }
}

/** Polls `tracker` until its runs have ended; throws after `timeoutMs`. */
export async function waitForRuns(
  tracker: RunTracker,
  options: { timeoutMs: number; intervalMs?: number; onPoll?: () => void | Promise<void> },
): Promise<RunSummary[]> {
  const deadline = performance.now() + options.timeoutMs
  for (;;) {
    await tracker.poll()
    await options.onPoll?.()
    if (tracker.isDone()) return tracker.runs()
    if (performance.now() > deadline) {
      const { ended } = tracker.counts()
      throw new Error(`only ${ended} of ${tracker.size} runs ended within ${options.timeoutMs / 1_000} s`)
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100))
  }
}

/** A run as `GET /v1/tenants/:id/runs/:runId` shows it (the fields the demo reads). */
export interface RunDetail {
  runId: string
  status: RunSummary['status']
  output: unknown
  updatedAt: string
}

/** Starts one run and long-polls its result until it ends; throws after `timeoutMs`. */
export async function runToEnd(
  api: PatientApi,
  tenantId: string,
  request: { workflow: string; input: unknown; idempotencyKey?: string },
  timeoutMs: number,
): Promise<RunDetail> {
  const { runId } = await api.post<{ runId: string }>(`/v1/tenants/${tenantId}/runs`, request)
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const run = await api.get<RunDetail>(`/v1/tenants/${tenantId}/runs/${runId}/result?waitMs=5000`)
    if (ENDED.has(run.status)) return run
    if (performance.now() > deadline) throw new Error(`run ${runId} of ${tenantId} still ${run.status} after ${timeoutMs / 1_000} s`)
  }
}

/** Milliseconds from acceptance to the end of each run (the server's own timestamps). */
export function runLatenciesMs(runs: readonly RunSummary[]): number[] {
  return runs.map((run) => Date.parse(run.updatedAt) - Date.parse(run.createdAt))
}

/** The p-th percentile (0–100) of `values`, nearest-rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
