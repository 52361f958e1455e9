/**
 * `pnpm demo`: litecell in about a minute, with real processes, real Litestream and an
 * S3-compatible server on loopback. It starts `litecell serve` in a temp directory, then:
 *
 *   1. creates two tenants (each one SQLite file, replicated to S3),
 *   2. runs phase one of an experiment on `lab` and notes the time,
 *   3. fires a burst of 500 runs at `lab` and kills its worker with SIGKILL halfway,
 *   4. hibernates both tenants (their local files are deleted once S3 has everything),
 *   5. wakes `lab` from S3 and queries its metrics table,
 *   6. forks `lab` as it was between the two phases,
 *   7. stops the control plane and removes the temp directory.
 *
 * Every ✓ line is a check; the demo exits 0 only if all of them held. The temp directory is
 * kept (for its logs) if one did not, or if LITECELL_DEMO_KEEP is set.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { LitecellServer } from '@litecell/testkit/server'
import { PatientApi } from './demo/patient-api.js'
import { Checks } from './demo/checks.js'
import { crashBurst } from './demo/crash-burst.js'
import { formatMs, Narrator } from './demo/narrator.js'
import { waitUntilReplicated } from './demo/replica-watch.js'
import { percentile, runLatenciesMs, runToEnd, RunTracker, waitForRuns } from './demo/run-tracker.js'
import { formatTable } from './demo/table.js'
import { describeContents, readContents, sameContents, type TenantContents } from './demo/tenant-contents.js'
import { describeTenantFiles, localTenants, tenantDir } from './demo/tenant-files.js'
import { burstRequests, COOL_DOWN_MS, metricRowsOf, PHASE_ONE_LRS, phaseOneSweep, sandboxRequests } from './demo/workload.js'

const LAB = 'lab'
const SANDBOX = 'sandbox'
const FORK = 'lab-before-burst'
/** Workers hibernate after this much idle time (the default is 30 s). */
const IDLE_MS = 5_000
const BURST_RUNS = 500
/** The worker is killed once this many burst runs have ended (the rest are in flight or queued). */
const KILL_AFTER_ENDED = 120
/**
 * Litestream ships changes to S3 about every second. Once the replica holds an object newer
 * than phase one's last commit, wait one more sync before noting the fork point, in case
 * that object was read just before the commit.
 */
const REPLICATION_SETTLE_MS = 1_200
/** Between the fork point and phase two, so that no phase-two write is older than it. */
const FORK_GAP_MS = 1_500
const TIMEOUT_MS = 120_000

const say = new Narrator()
const checks = new Checks(say)
/** Rows of the final summary table, added as the story goes. */
const summary: [string, string][] = []
/** Aborted by Ctrl-C: API calls and waits stop, then the control plane is stopped properly. */
const interruption = new AbortController()
const { signal } = interruption
let interruptedAt = 0
let server: LitecellServer | undefined

process.on('SIGINT', interrupt)
process.on('SIGTERM', interrupt)
process.exitCode = await main()

async function main(): Promise<number> {
  const startedAt = performance.now()
  say.title('litecell demo', 'durable workflows, one SQLite file per tenant, replicated to S3')

  say.step('Start a control plane (litecell serve, embedded S3, temp data directory)')
  try {
    // Its own process group, so a terminal's Ctrl-C reaches only the demo (which then stops
    // the server properly); none of this shell's LITECELL_* settings: the demo runs on its
    // own embedded S3.
    server = await LitecellServer.start({
      label: 'demo',
      env: { LITECELL_IDLE_MS: String(IDLE_MS) },
      inherit: (name) => !name.startsWith('LITECELL_'),
      detached: true,
      signal,
    })
  } catch (err) {
    if (!signal.aborted) say.fail((err as Error).message)
    return signal.aborted ? 130 : 1
  }
  say.ok(`listening on ${server.url} · data in ${server.dataDir}`, performance.now() - startedAt)

  let failure: Error | undefined
  try {
    await story(new PatientApi(server.admin, signal), server.dataDir)
  } catch (err) {
    failure = err as Error
    if (!signal.aborted) say.fail(`stopped early: ${failure.message}`)
  }

  say.step('Shut down (SIGTERM: the control plane hibernates what is still active)')
  const stopStart = performance.now()
  const exit = await server.stop({ timeoutMs: 60_000 })
  checks.expect(
    exit.code === 0 && !exit.wasKilled && exit.leftBehind.length === 0,
    'control plane exited 0, no process left behind',
    `exit code ${exit.code}${exit.wasKilled ? ', had to be killed' : ''}, left behind: [${exit.leftBehind.join(', ')}]\n${server.output().trimEnd().split('\n').slice(-20).join('\n')}`,
    performance.now() - stopStart,
  )
  const leftLocal = localTenants(server.dataDir)
  checks.expect(
    leftLocal.length === 0,
    'every tenant hibernated on the way out: no local tenant files left',
    `still on local disk: ${leftLocal.map((id) => `tenants/${id}/`).join(', ')}`,
  )
  const isClean = !failure && checks.failures().length === 0
  if (!signal.aborted && (!isClean || process.env.LITECELL_DEMO_KEEP)) {
    say.info(`data directory kept for inspection: ${server.dataDir} (logs in logs/)`)
  } else {
    await server.removeDataDir()
    say.ok('temp data directory removed')
  }
  if (signal.aborted) return 130

  summary.push(['total demo time', formatMs(performance.now() - startedAt)])
  say.step('Summary')
  say.block(formatTable(['', ''], summary).slice(2))
  if (!isClean) {
    say.fail(`${checks.failures().length} of ${checks.count} checks failed${failure ? ', and the demo stopped early' : ''}:`)
    for (const check of checks.failures()) say.info(check.text)
    if (failure) say.info(`stopped early: ${failure.message}`)
    return 1
  }
  say.ok(say.paint(['bold', 'green'], `all ${checks.count} checks held`))
  return 0
}

async function story(api: PatientApi, dataDir: string): Promise<void> {
  await createTenants(api)
  const { phaseOne, forkPoint } = await runPhaseOne(api)
  const afterBurst = await runBurstWithCrash(api, phaseOne)
  await hibernateBoth(api, dataDir)
  await wakeAndQuery(api, dataDir, afterBurst)
  await forkAtPoint(api, forkPoint, { phaseOne, afterBurst })
}

async function createTenants(api: PatientApi): Promise<void> {
  say.step('Create two tenants')
  for (const id of [LAB, SANDBOX]) {
    const tenant = await api.post<{ state: string; token: string }>('/v1/tenants', { id })
    say.ok(`${id}: ${tenant.state}, tenant token ${tenant.token.slice(0, 8)}…`)
  }
  say.info('a tenant is one SQLite file (workflow state + app tables) and its S3 replica; no process until used')
}

/** A sweep on `lab`; once it is in S3, the fork point is noted. */
async function runPhaseOne(api: PatientApi): Promise<{ phaseOne: TenantContents; forkPoint: string }> {
  say.step(`Phase one on ${LAB}: a sweep over ${PHASE_ONE_LRS.length} learning rates`)
  const startedAt = performance.now()
  const sweep = await runToEnd(api, LAB, phaseOneSweep(), TIMEOUT_MS)
  const best = (sweep.output as { best?: { lr: number; loss: number } } | null)?.best
  checks.expect(
    sweep.status === 'succeeded' && best !== undefined,
    `sweep succeeded: ${PHASE_ONE_LRS.length} train children, best lr ${best?.lr} (loss ${best?.loss}); the first request started lab's worker`,
    `status ${sweep.status}, output ${JSON.stringify(sweep.output)}`,
    performance.now() - startedAt,
  )
  await showSweepFeatures(api, sweep.runId)
  const phaseOne = await readContents(api, LAB)
  say.info(`${LAB} holds ${describeContents(phaseOne)}; waiting for Litestream to ship them to S3`)
  const replicatedAt = await waitUntilReplicated(api, LAB, sweep.updatedAt, { timeoutMs: 30_000, signal })
  await sleep(REPLICATION_SETTLE_MS, undefined, { signal })
  const forkPoint = new Date().toISOString()
  say.info(`in S3 since ${replicatedAt}; fork point: ${forkPoint}`)
  await sleep(FORK_GAP_MS, undefined, { signal })
  return { phaseOne, forkPoint }
}

/** What the example app declares around a sweep: tagged trials on a partitioned queue, a nightly schedule. */
async function showSweepFeatures(api: PatientApi, sweepRunId: string): Promise<void> {
  const trials = await api.get<{ runs: { tags?: Record<string, string> }[] }>(
    `/v1/tenants/${LAB}/runs?tag.sweep=${sweepRunId}&limit=100`,
  )
  const lrs = trials.runs.map((run) => run.tags?.lr).join(', ')
  say.info(`GET …/runs?tag.sweep=<id> lists its ${trials.runs.length} trials (tags lr=${lrs}); they ran on the partitioned gpu queue, 2 per owner at once`)
  const { schedules } = await api.get<{ schedules: { id: string; cron: string; nextFireAt: string | null }[] }>(
    `/v1/tenants/${LAB}/schedules`,
  )
  for (const schedule of schedules) {
    say.info(`schedule ${schedule.id} (${schedule.cron}) fires next at ${schedule.nextFireAt}: a hibernated tenant is woken for it`)
  }
}

/** 500 runs at `lab`, its worker killed halfway; meanwhile `sandbox` runs its own work. */
async function runBurstWithCrash(api: PatientApi, phaseOne: TenantContents): Promise<TenantContents> {
  say.step(`Phase two: a burst of ${BURST_RUNS} train runs at ${LAB}, and a crash in the middle`)
  say.info(`each run: warm-up epochs, a ${formatMs(COOL_DOWN_MS)} durable sleep, fine-tune epochs; metrics rows via transactions`)
  const requests = burstRequests(BURST_RUNS)
  let sandbox: Promise<void> | undefined
  const burst = await crashBurst({
    api,
    say,
    tenantId: LAB,
    requests,
    killAfterEnded: KILL_AFTER_ENDED,
    timeoutMs: TIMEOUT_MS,
    onKill: () => {
      sandbox = runSandbox(api)
      sandbox.catch(() => undefined) // awaited below
    },
  })
  checks.expect(
    burst.unfinishedAtKill > 0,
    `the kill hit mid-burst: ${burst.unfinishedAtKill} runs were queued, running or sleeping`,
    'every run had already ended',
  )
  say.ok(`a new worker (pid ${burst.replacement.pid}, lease epoch ${burst.replacement.epoch}) took over`, burst.replacement.afterKillMs)
  const failed = burst.runs.filter((run) => run.status !== 'succeeded')
  checks.expect(
    burst.runs.length === BURST_RUNS && failed.length === 0,
    `all ${BURST_RUNS} runs succeeded, none lost to the crash`,
    `${burst.runs.length} runs seen; not succeeded: ${failed.slice(0, 5).map((run) => `${run.runId} ${run.status}`).join(', ')}`,
    burst.wallMs,
  )
  const afterBurst = await readContents(api, LAB)
  const expected = { runs: phaseOne.runs + BURST_RUNS, metricRows: phaseOne.metricRows + metricRowsOf(requests) }
  checks.expect(
    afterBurst.runs === expected.runs && afterBurst.metricRows === expected.metricRows,
    `each run started once, each metrics row written once: ${describeContents(afterBurst)}`,
    `expected ${describeContents({ ...expected, lossChecksum: 0 })}, found ${describeContents(afterBurst)}`,
  )
  await sandbox
  const latencies = runLatenciesMs(burst.runs)
  summary.push(
    ['runs', `${BURST_RUNS} in the burst + ${phaseOne.runs} in phase one on ${LAB}, ${sandboxRequests().length} on ${SANDBOX}`],
    ['run latency p50 / p99', `${formatMs(percentile(latencies, 50))} / ${formatMs(percentile(latencies, 99))}  (accepted → done; incl. the ${formatMs(COOL_DOWN_MS)} sleep and the crash)`],
    ['burst', `${formatMs(burst.wallMs)} for ${BURST_RUNS} runs (${Math.round(BURST_RUNS / (burst.wallMs / 1_000))} runs/s), one crash`],
    ['worker replaced after SIGKILL', formatMs(burst.replacement.afterKillMs)],
  )
  return afterBurst
}

/** While `lab` recovers from the kill, the other tenant runs its own work, untouched. */
async function runSandbox(api: PatientApi): Promise<void> {
  const startedAt = performance.now()
  const runs = sandboxRequests()
  const tracker = new RunTracker(api, SANDBOX)
  tracker.add((await api.post<{ runIds: string[] }>(`/v1/tenants/${SANDBOX}/runs/batch`, { runs })).runIds)
  const ended = await waitForRuns(tracker, { timeoutMs: TIMEOUT_MS })
  const succeeded = ended.filter((run) => run.status === 'succeeded').length
  checks.expect(
    succeeded === runs.length,
    `meanwhile ${SANDBOX} ran its own ${runs.length} runs (one retried a flaky step twice): all succeeded in ${formatMs(performance.now() - startedAt)}`,
    `${succeeded} of ${runs.length} succeeded`,
  )
}

async function hibernateBoth(api: PatientApi, dataDir: string): Promise<void> {
  say.step('Hibernate both tenants')
  const timings = await Promise.all(
    [LAB, SANDBOX].map(async (id) => {
      const dir = tenantDir(dataDir, id)
      const wasAsleep = (await api.get<{ state: string }>(`/v1/tenants/${id}`)).state === 'hibernated'
      const files = describeTenantFiles(dir)
      const startedAt = performance.now()
      // A failed hibernation is a failed check, not the end of the story.
      const answer = await api
        .postOnce<{ state: string }>(`/v1/tenants/${id}/hibernate`)
        .then((tenant) => `state ${tenant.state}`)
        .catch((err: unknown) => (signal.aborted ? Promise.reject(err) : (err as Error).message))
      const ms = performance.now() - startedAt
      checks.expect(
        // The live files go; a verified copy may stay in tenants/<id>/hibernated/ for the next
        // wake on this machine, used only if S3 still holds exactly what it was taken from.
        answer === 'state hibernated' && describeTenantFiles(dir) === '',
        `${id} hibernated${wasAsleep ? ` (by itself, after ${IDLE_MS / 1_000} s idle)` : ''}; its live files ${files ? `(${files}) ` : ''}are gone`,
        `${answer}; ${describeTenantFiles(dir) ? `${dir} still holds ${describeTenantFiles(dir)}` : 'live files gone'}`,
        wasAsleep ? undefined : ms,
      )
      return wasAsleep ? `${id}: by itself when idle` : `${id} ${formatMs(ms)}`
    }),
  )
  summary.push(['hibernate (verified sync to S3)', timings.join(' · ')])
}

async function wakeAndQuery(api: PatientApi, dataDir: string, afterBurst: TenantContents): Promise<void> {
  say.step(`Wake ${LAB} and query its metrics`)
  const source = existsSync(join(tenantDir(dataDir, LAB), 'hibernated'))
    ? 'from the copy its hibernation kept, once S3 proved it current'
    : 'restored from S3'
  const startedAt = performance.now()
  const { state } = await api.postOnce<{ state: string }>(`/v1/tenants/${LAB}/wake`)
  const wakeMs = performance.now() - startedAt
  checks.expect(state === 'active', `${LAB} is active again, ${source}`, `state ${state}`, wakeMs)
  summary.push(['wake (kept copy checked against S3, or restore)', formatMs(wakeMs)])
  const afterWake = await readContents(api, LAB)
  checks.expect(
    sameContents(afterWake, afterBurst),
    `nothing lost: ${describeContents(afterWake)}, same checksum as before hibernation`,
    `before: ${JSON.stringify(afterBurst)}, after: ${JSON.stringify(afterWake)}`,
  )
  const { rows } = await api.post<{ rows: { lr: number; runs: number; best: number; epochs: number }[] }>(
    `/v1/tenants/${LAB}/query`,
    {
      sql: `SELECT lr, count(DISTINCT run_id) AS runs, min(loss) AS best, max(epoch) AS epochs
            FROM metrics GROUP BY lr ORDER BY best, lr LIMIT 5`,
    },
  )
  say.info('best loss per learning rate (SELECT … FROM metrics GROUP BY lr):')
  say.block(
    formatTable(
      ['#', 'lr', 'runs', 'best loss', 'epochs'],
      rows.map((row, rank) => [String(rank + 1), String(row.lr), String(row.runs), row.best.toFixed(4), String(row.epochs)]),
      { align: ['right', 'right', 'right', 'right', 'right'], paintHeader: (line) => say.paint('dim', line) },
    ),
  )
}

async function forkAtPoint(
  api: PatientApi,
  forkPoint: string,
  expected: { phaseOne: TenantContents; afterBurst: TenantContents },
): Promise<void> {
  say.step(`Fork ${LAB} as it was at the fork point, into ${FORK}`)
  const startedAt = performance.now()
  await api.postOnce(`/v1/tenants/${LAB}/fork`, { id: FORK, at: forkPoint })
  const forkMs = performance.now() - startedAt
  say.ok(`${FORK} created from ${LAB}'s replica as of ${forkPoint}`, forkMs)
  summary.push(['fork (point-in-time restore)', formatMs(forkMs)])
  const forked = await readContents(api, FORK)
  const source = await readContents(api, LAB)
  const row = (id: string, contents: TenantContents) => [id, count(contents.runs), count(contents.metricRows)]
  say.block(
    formatTable(['tenant', 'runs', 'metric rows'], [row(LAB, source), row(FORK, forked)], {
      align: ['left', 'right', 'right'],
      paintHeader: (line) => say.paint('dim', line),
    }),
  )
  checks.expect(
    sameContents(forked, expected.phaseOne),
    `${FORK} holds phase one only: ${describeContents(forked)}`,
    `expected ${describeContents(expected.phaseOne)}, found ${describeContents(forked)}`,
  )
  checks.expect(
    sameContents(source, expected.afterBurst),
    `${LAB} itself is unchanged: ${describeContents(source)}`,
    `expected ${describeContents(expected.afterBurst)}, found ${describeContents(source)}`,
  )
}

/**
 * Ctrl-C: stop waiting, then stop the control plane properly (it hibernates its tenants).
 * The signal often arrives twice at once (from the terminal, and relayed by tsx); another
 * one a second later or more kills the control plane and everything it started.
 */
function interrupt(name: NodeJS.Signals): void {
  if (!signal.aborted) {
    interruptedAt = performance.now()
    say.fail(`${name}: stopping (the control plane hibernates its tenants first; again to kill it)`)
    interruption.abort(new Error(`interrupted by ${name}`))
  } else if (performance.now() - interruptedAt > 1_000) {
    void (server?.stop({ timeoutMs: 0 }) ?? Promise.resolve()).finally(() => process.exit(130))
  }
}

function count(n: number): string {
  return n.toLocaleString('en-US')
}
