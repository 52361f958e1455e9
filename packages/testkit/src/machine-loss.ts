/**
 * The machine-loss drill of issue 11, shared by the local-launcher and the Kubernetes-launcher
 * tests: several clients submit runs of the test app's `threeSteps` workflow over a few
 * seconds and record every acknowledgement, a reporter records every final result the API
 * shows, and right after the last acknowledgement the machine "vanishes" (the caller kills
 * the worker's whole process group, Litestream included, and deletes the tenant's folder).
 * The next request wakes the tenant from S3; the drill then reports what survived.
 */
import { renameSync, rmSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import type { LitecellClient } from '@litecell/client'
import { expect } from 'vitest'
import { query, waitForRuns } from './e2e.js'
import { waitFor } from './wait-for.js'

/** Options of {@link runMachineLoss}. */
export interface MachineLossOptions {
  /** An admin client. */
  readonly client: LitecellClient
  /** A tenant of the test app, awake. */
  readonly tenantId: string
  /** @default 500 */
  readonly runs?: number
  /** Clients submitting at once, each its share of the runs. @default 5 */
  readonly clients?: number
  /** Submissions are spread evenly over this long (sent without waiting for answers). @default 3000 */
  readonly spreadMs?: number
  /**
   * Kill the worker's process group and delete the tenant's local folder, now: called in the
   * same turn as the last submission's answer, so the kill must happen synchronously.
   */
  readonly loseMachine: () => Promise<void> | void
}

/** What a drill found. */
export interface MachineLossReport {
  readonly acknowledged: number
  /** Submissions answered with something else than 202, by status. */
  readonly refused: Record<number, number>
  /** Runs reported with a final status (and output) before the loss. */
  readonly reportedFinished: number
  /** ms from the last acknowledgement to the loss. */
  readonly lostAfterLastAckMs: number
  /** Acknowledged runs the woken tenant does not have. */
  readonly lostAcknowledged: readonly string[]
  /** Runs reported finished whose status or output differs after the wake (or vanished). */
  readonly changedResults: readonly { runId: string; reported: unknown; now: unknown }[]
  /** Runs that succeeded without exactly one ledger row, and ledger rows of no such run. */
  readonly ledgerMismatches: readonly { runId: string; rows: number; status: string | null }[]
  /** Runs the woken tenant holds and the ledger rows it has. */
  readonly runsAfterWake: number
  readonly ledgerRowsAfterWake: number
}

interface Reported {
  status: string
  output: unknown
}

/**
 * The machine vanishes: SIGKILLs the process group led by `pid` (a worker and its Litestream,
 * or a pod's processes) and deletes `dir`, their local folder. The folder is first moved aside
 * in one step, then deleted: the control plane outlives the "machine" in these drills and may
 * start the tenant again at once (a client's request is in flight), and that new worker's
 * files must neither be deleted under it nor keep the old folder from being removed (ENOTEMPTY
 * after every retry, seen in CI). The deletion still retries while a dying process may be
 * finishing a write.
 */
export function vanish(pid: number, dir: string): void {
  process.kill(-pid, 'SIGKILL')
  const gone = `${dir}.vanished-${process.hrtime.bigint()}`
  renameSync(dir, gone)
  rmSync(gone, { recursive: true, force: true, maxRetries: 20, retryDelay: 25 })
}

/** Runs the drill (see the file comment) and reports; it asserts nothing itself. */
export async function runMachineLoss(options: MachineLossOptions): Promise<MachineLossReport> {
  const { client, tenantId } = options
  const total = options.runs ?? 500
  const clients = options.clients ?? 5
  const spreadMs = options.spreadMs ?? 3_000
  const runsPath = `/v1/tenants/${tenantId}/runs`
  const acks = new Map<string, number>() // runId → n
  const refused: Record<number, number> = {}
  let lastAckMs = 0
  const reported = new Map<string, Reported>()
  let reporting = true
  let answered = 0
  let lostAtMs = 0
  let loss: Promise<void> | undefined
  // The machine goes in the same turn as the last answer: nothing else runs in between.
  const lose = (): void => {
    reporting = false
    lostAtMs = performance.now()
    loss = Promise.resolve(options.loseMachine())
  }

  const submit = async (n: number): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, (n * spreadMs) / total))
    const reply = await client
      .send<any>('POST', runsPath, {
        body: { workflow: 'threeSteps', input: { n }, idempotencyKey: `machine-loss-${n}` },
      })
      .catch(() => ({ status: 0, body: undefined }))
    if (reply.status === 202) {
      acks.set(reply.body.runId, n)
      lastAckMs = performance.now()
    } else refused[reply.status] = (refused[reply.status] ?? 0) + 1
    if (++answered === total) lose()
  }
  const submitters = Array.from({ length: clients }, async (_, c) => {
    const mine: Promise<void>[] = []
    for (let n = c; n < total; n += clients) mine.push(submit(n))
    await Promise.all(mine)
  })
  const reporter = (async () => {
    while (reporting) {
      const page = await client
        .send<any>('GET', `${runsPath}?status=succeeded&limit=1000`)
        .catch(() => undefined)
      const fresh = (page?.status === 200 ? (page.body.runs as { runId: string }[]) : []).filter(
        (run) => !reported.has(run.runId),
      )
      await Promise.all(
        fresh.slice(0, 50).map(async ({ runId }) => {
          const run = await client.send<any>('GET', `${runsPath}/${runId}`).catch(() => undefined)
          if (
            run?.status === 200 &&
            ['succeeded', 'failed', 'cancelled'].includes(run.body.status)
          ) {
            reported.set(runId, { status: run.body.status, output: run.body.output })
          }
        }),
      )
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })()

  await Promise.all(submitters)
  await loss
  const lostAfterLastAckMs = lostAtMs - lastAckMs
  await reporter

  // The next requests wake the tenant from S3 (after the control plane saw the worker die).
  await waitFor(
    async () =>
      (await client.send('GET', `${runsPath}?limit=1`).catch(() => undefined))?.status === 200,
    { timeoutMs: 120_000, intervalMs: 250, what: `tenant ${tenantId} to wake after the loss` },
  )
  const existing = new Set<string>()
  for (let cursor: string | null = null; ;) {
    const page = await client.listRuns(tenantId, { limit: 1000, ...(cursor ? { cursor } : {}) })
    for (const run of page.runs) existing.add(run.runId)
    cursor = page.nextCursor
    if (!cursor) break
  }
  const lostAcknowledged = [...acks.keys()].filter((runId) => !existing.has(runId))
  const survivors = [...existing]
  const finished = await waitForRuns(client, tenantId, survivors, 180_000)
  const statusOf = new Map(finished.map((run) => [run.runId, run] as const))
  const changedResults = [...reported].flatMap(([runId, before]) => {
    const now = statusOf.get(runId)
    return now &&
      now.status === before.status &&
      JSON.stringify(now.output) === JSON.stringify(before.output)
      ? []
      : [{ runId, reported: before, now: now ? { status: now.status, output: now.output } : null }]
  })
  const rows = await query(
    client,
    tenantId,
    'SELECT run_id, count(*) AS n FROM ledger GROUP BY run_id',
  )
  const rowsOf = new Map(rows.map((row) => [row.run_id as string, row.n as number]))
  const ledgerMismatches = [
    ...finished
      .filter((run) => run.status === 'succeeded' && rowsOf.get(run.runId) !== 1)
      .map((run) => ({ runId: run.runId, rows: rowsOf.get(run.runId) ?? 0, status: run.status })),
    ...[...rowsOf.keys()]
      .filter((runId) => statusOf.get(runId)?.status !== 'succeeded')
      .map((runId) => ({
        runId,
        rows: rowsOf.get(runId)!,
        status: statusOf.get(runId)?.status ?? null,
      })),
  ]
  return {
    acknowledged: acks.size,
    refused,
    reportedFinished: reported.size,
    lostAfterLastAckMs,
    lostAcknowledged,
    changedResults,
    ledgerMismatches,
    runsAfterWake: existing.size,
    ledgerRowsAfterWake: [...rowsOf.values()].reduce((sum, n) => sum + n, 0),
  }
}

/**
 * What a `replicated` drill of `runs` runs promises, asserted: every run acknowledged, the loss
 * right after the last acknowledgement, no acknowledged run lost, every reported result
 * unchanged, and exactly one ledger row per succeeded run.
 */
export function expectNothingAcknowledgedLost(report: MachineLossReport, runs = 500): void {
  expect(report.acknowledged).toBe(runs)
  expect(report.lostAfterLastAckMs).toBeLessThan(50)
  expect(report.reportedFinished).toBeGreaterThan(0)
  expect(report.lostAcknowledged).toEqual([])
  expect(report.changedResults).toEqual([])
  expect(report.ledgerMismatches).toEqual([])
  expect(report.runsAfterWake).toBe(runs)
  expect(report.ledgerRowsAfterWake).toBe(runs)
}
