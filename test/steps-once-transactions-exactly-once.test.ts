/**
 * Steps run once, transactions exactly once (invariant 3), across a SIGKILL of the worker in
 * the middle of a burst. A step runs again only if it was in flight at the kill; a recorded
 * one never does: every run that had begun its `slow` step at the kill had recorded `first`
 * (the engine commits a step's result before the workflow moves on), so its `first` must not
 * run again, and only `slow` (in flight) may.
 *
 * Mutation check: with recorded steps never replayed (`RunContext.enter` returning no record
 * for steps: every step re-executed on recovery), the earlier bound (`reruns <= 16`) passed;
 * this test fails on it: the runs in `slow` at the kill run `first` again.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, onTestFinished, test } from 'vitest'
import { tempDir, waitFor } from '@litecell/testkit'
import { ReplicatorWatch, createTenant, query, useServer, waitForRuns } from '@litecell/testkit/e2e'

const dataDir = tempDir('e2e')
const effectsDir = join(dataDir, 'effects')
const server = useServer({
  dataDir,
  env: { LITECELL_CONCURRENCY: '16', LITECELL_TEST_EFFECTS_DIR: effectsDir },
})

test('SIGKILL of a worker mid-burst: every run completes, only the steps in flight at the kill rerun, transactions apply exactly once', async () => {
  const { admin } = server
  await createTenant(admin, 'burst')
  const runs = Array.from({ length: 200 }, () => ({
    workflow: 'counted',
    input: { tenant: 'burst', slowMs: 400 },
  }))
  const { runIds } = await admin.post<any>('/v1/tenants/burst/runs/batch', { runs })
  expect(runIds).toHaveLength(200)

  // Kill the worker while runs are in their slow step: the kill follows the read that saw one
  // begun and not finished at once (a step of 400 ms leaves it far more time than that).
  const effects = join(effectsDir, 'burst')
  const pid = await waitFor(async () => (await admin.get<any>('/v1/tenants/burst')).worker?.pid)
  const watch = new ReplicatorWatch(join(dataDir, 'tenants', 'burst'))
  onTestFinished(() => watch.stop())
  await waitFor(() => runsInSlow(readLines(effects)).length > 0, { intervalMs: 5 })
  process.kill(pid, 'SIGKILL')
  // What had happened by the kill (the process is gone: nothing more is appended by it).
  const atKill = readLines(effects)
  const pastFirst = new Set(
    atKill.filter((line) => line.endsWith(' slow-begin')).map((line) => line.split(' ')[0]!),
  )
  const inSlowAtKill = runsInSlow(atKill)
  expect(inSlowAtKill.length, 'runs inside their slow step at the kill').toBeGreaterThan(0)

  const finished = await waitForRuns(admin, 'burst', runIds)
  expect(finished.every((run) => run.status === 'succeeded')).toBe(true)
  const tenant = await admin.get<any>('/v1/tenants/burst')
  expect(tenant.worker.pid).not.toBe(pid)

  const executions = new Map<string, number>()
  for (const line of readLines(effects)) executions.set(line, (executions.get(line) ?? 0) + 1)
  for (const runId of runIds) {
    expect(executions.get(`${runId} first`), `${runId} first`).toBeGreaterThanOrEqual(1)
    expect(executions.get(`${runId} slow`), `${runId} slow`).toBeGreaterThanOrEqual(1)
  }
  // A recorded step never reruns: `first` of every run that had moved past it ran once.
  const firstRerun = [...pastFirst].filter((runId) => executions.get(`${runId} first`) !== 1)
  expect(firstRerun, 'recorded `first` steps that ran again').toEqual([])
  // What reran was in flight at the kill, once more: `first` of a run not past it, or `slow`
  // of a run that had begun it (its effect may be written and its record not yet committed).
  const reruns = [...executions].filter(([, count]) => count > 1).map(([line]) => line)
  for (const line of reruns) {
    const [runId, step] = line.split(' ')
    if (step !== 'first') expect([...pastFirst], `${line} reran`).toContain(runId)
    expect(executions.get(line), line).toBe(2)
  }
  expect(watch.most, `replicators at once: ${watch.together}`).toBe(1)

  // ctx.transaction: exactly one ledger row per run, despite the kill.
  const ledger = await query(
    admin,
    'burst',
    'SELECT run_id, count(*) AS n FROM ledger GROUP BY run_id',
  )
  expect(ledger).toHaveLength(200)
  expect(ledger.every((row) => row.n === 1)).toBe(true)
})

/** Runs whose `slow` step had begun and not finished, by the effect lines. */
function runsInSlow(lines: readonly string[]): string[] {
  const begun = lines
    .filter((line) => line.endsWith(' slow-begin'))
    .map((line) => line.split(' ')[0]!)
  const done = new Set(
    lines.filter((line) => line.endsWith(' slow')).map((line) => line.split(' ')[0]!),
  )
  return begun.filter((runId) => !done.has(runId))
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}
