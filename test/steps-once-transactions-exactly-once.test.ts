import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { tempDir, waitFor } from '@litecell/testkit'
import { createTenant, query, useServer, waitForRuns } from '@litecell/testkit/e2e'

const dataDir = tempDir('e2e')
const effectsDir = join(dataDir, 'effects')
const server = useServer({
  dataDir,
  env: { LITECELL_CONCURRENCY: '16', LITECELL_TEST_EFFECTS_DIR: effectsDir },
})

test('SIGKILL of a worker mid-burst: every run completes, recorded steps never rerun, transactions apply exactly once', async () => {
  const { admin } = server
  await createTenant(admin, 'burst')
  const runs = Array.from({ length: 200 }, () => ({ workflow: 'counted', input: { tenant: 'burst', slowMs: 150 } }))
  const { runIds } = await admin.post<any>('/v1/tenants/burst/runs/batch', { runs })
  expect(runIds).toHaveLength(200)

  // Kill the worker while runs are in their slow step.
  const pid = await waitFor(async () => {
    const lines = readLines(join(effectsDir, 'burst'))
    const tenant = await admin.get<any>('/v1/tenants/burst')
    return lines.some((line) => line.endsWith(' slow')) && tenant.worker?.pid
  })
  process.kill(pid, 'SIGKILL')

  const finished = await waitForRuns(admin, 'burst', runIds)
  expect(finished.every((run) => run.status === 'succeeded')).toBe(true)
  const tenant = await admin.get<any>('/v1/tenants/burst')
  expect(tenant.worker.pid).not.toBe(pid)

  // A step runs again only if it was in flight at the kill: at most one per executing run.
  const executions = new Map<string, number>()
  for (const line of readLines(join(effectsDir, 'burst'))) executions.set(line, (executions.get(line) ?? 0) + 1)
  const reruns = [...executions.values()].filter((count) => count > 1)
  expect(reruns.every((count) => count === 2)).toBe(true)
  expect(reruns.length).toBeLessThanOrEqual(16)
  for (const runId of runIds) {
    expect(executions.get(`${runId} first`)).toBeGreaterThanOrEqual(1)
    expect(executions.get(`${runId} slow`)).toBeGreaterThanOrEqual(1)
  }

  // ctx.transaction: exactly one ledger row per run, despite the kill.
  const ledger = await query(admin, 'burst', 'SELECT run_id, count(*) AS n FROM ledger GROUP BY run_id')
  expect(ledger).toHaveLength(200)
  expect(ledger.every((row) => row.n === 1)).toBe(true)
})

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}
