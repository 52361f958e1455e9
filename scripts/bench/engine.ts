/**
 * `pnpm bench:engine`: throughput and latency of @litecell/engine on this machine, printed as
 * JSON, once with synchronous=NORMAL (the default: survives a process crash; the S3 replica
 * covers machine loss) and once with synchronous=FULL (fsync on every commit).
 *
 * - stepUs: µs per step of one workflow of 1,000 sequential steps.
 * - sequential: mean / p50 / p99 ms from `start` to the end of a 3-step workflow, 500 in a row.
 * - burst: workflows/s for 2,000 3-step workflows started at once with `startMany`.
 * - recovery: ms from opening the engine (in a fresh process, after SIGKILL of the process that
 *   ran the workflow mid-way) to the recovered run's end.
 *
 * The script re-runs itself as the child process of the recovery measurement
 * (`engine.ts child <start|recover> <db> <synchronous>`).
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
// The engine's own connection helper (internal, not part of the package's API) opens the
// bare connection of the SQLite floor measurement with the same PRAGMAs.
import { defineApp, Engine } from '@litecell/engine'
import { openSqlite } from '@litecell/replica'

type Synchronous = 'NORMAL' | 'FULL'

const STEPS_PER_WORKFLOW = 1_000
const SEQUENTIAL_RUNS = 500
const BURST_RUNS = 2_000
const RECOVERY_STEPS = 20

const app = defineApp({
  workflows: {
    many: async (ctx, input: { steps: number }) => {
      let total = 0
      for (let i = 0; i < input.steps; i++) total += await ctx.step(`s${i}`, () => i)
      return total
    },
    three: async (ctx, input: number) => {
      const a = await ctx.step('a', () => input + 1)
      const b = await ctx.step('b', () => a * 2)
      return ctx.step('c', () => b - 1)
    },
    // Runs RECOVERY_STEPS steps; in the first process it parks in step `hang` mid-way (after
    // writing a marker) until SIGKILL.
    crash: async (ctx, input: { marker: string | null }) => {
      for (let i = 0; i < RECOVERY_STEPS; i++) {
        await ctx.step(`s${i}`, async () => {
          if (i === RECOVERY_STEPS / 2 && input.marker !== null && process.env.BENCH_HANG === '1') {
            writeFileSync(input.marker, 'hanging')
            await new Promise(() => undefined)
          }
          return i
        })
      }
      return 'recovered'
    },
  },
})

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits))

async function withEngine<T>(
  dir: string,
  name: string,
  synchronous: Synchronous,
  fn: (engine: Engine) => Promise<T>,
): Promise<T> {
  const engine = await Engine.open({
    path: join(dir, `${name}.db`),
    app,
    synchronous,
    concurrency: 200,
  })
  try {
    return await fn(engine)
  } finally {
    await engine.close()
  }
}

/** CPU time (user + system) this process used since `start`, in µs. */
function cpuUsUsedSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start)
  return used.user + used.system
}

async function stepUs(dir: string, synchronous: Synchronous) {
  return withEngine(dir, 'steps', synchronous, async (engine) => {
    const warmUp = await engine.start('many', { steps: 200 }) // JIT warm-up, not measured
    await engine.result(warmUp.runId, { waitMs: 60_000 })
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const { runId } = await engine.start('many', { steps: STEPS_PER_WORKFLOW })
    const run = await engine.result(runId, { waitMs: 120_000 })
    if (run.status !== 'succeeded') throw new Error(`bench run ${runId} ended ${run.status}`)
    return {
      stepUs: round(((performance.now() - t0) * 1_000) / STEPS_PER_WORKFLOW, 1),
      // Less sensitive to other processes competing for the CPU than wall time.
      cpuUsPerStep: round(cpuUsUsedSince(cpu0) / STEPS_PER_WORKFLOW, 1),
    }
  })
}

async function sequential(dir: string, synchronous: Synchronous) {
  return withEngine(dir, 'sequential', synchronous, async (engine) => {
    const times: number[] = []
    let cpu0 = process.cpuUsage()
    for (let i = 0; i < SEQUENTIAL_RUNS + 20; i++) {
      if (i === 20) cpu0 = process.cpuUsage()
      const t0 = performance.now()
      const { runId } = await engine.start('three', i)
      const run = await engine.result(runId, { waitMs: 60_000 })
      if (run.status !== 'succeeded') throw new Error(`bench run ${runId} ended ${run.status}`)
      if (i >= 20) times.push(performance.now() - t0) // the first 20 warm up the JIT
    }
    times.sort((a, b) => a - b)
    const mean = times.reduce((sum, t) => sum + t, 0) / times.length
    return {
      runs: SEQUENTIAL_RUNS,
      meanMs: round(mean),
      p50Ms: round(percentile(times, 50)),
      p99Ms: round(percentile(times, 99)),
      cpuMsPerWorkflow: round(cpuUsUsedSince(cpu0) / 1_000 / SEQUENTIAL_RUNS),
    }
  })
}

async function burst(dir: string, synchronous: Synchronous) {
  let commits = 0
  const engine = await Engine.open({
    path: join(dir, 'burst.db'),
    app,
    synchronous,
    concurrency: 200,
    observer: { onCommit: () => commits++ },
  })
  try {
    // JIT warm-up with a small burst, not measured.
    await engine.startMany(Array.from({ length: 200 }, (_, i) => ({ workflow: 'three', input: i })))
    await engine.idle()
    commits = 0
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await engine.startMany(
      Array.from({ length: BURST_RUNS }, (_, i) => ({ workflow: 'three', input: i })),
    )
    await engine.idle()
    const seconds = (performance.now() - t0) / 1_000
    const done = await engine.query("SELECT count(*) AS n FROM lc_runs WHERE status = 'succeeded'")
    if (done.rows[0]?.n !== BURST_RUNS + 200)
      throw new Error(`burst: only ${JSON.stringify(done.rows)} succeeded`)
    return {
      runs: BURST_RUNS,
      workflowsPerSec: Math.round(BURST_RUNS / seconds),
      seconds: round(seconds),
      cpuUsPerWorkflow: round(cpuUsUsedSince(cpu0) / BURST_RUNS, 1),
      commits,
    }
  } finally {
    await engine.close()
  }
}

function runChild(args: string[], env: Record<string, string> = {}) {
  const child = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), fileURLToPath(import.meta.url), 'child', ...args],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  return { child, exited, stdout: () => out }
}

async function recovery(dir: string, synchronous: Synchronous) {
  const db = join(dir, 'recovery.db')
  const marker = join(dir, 'marker')
  const first = runChild(['start', db, synchronous, marker], { BENCH_HANG: '1' })
  const deadline = Date.now() + 30_000
  while (!existsSync(marker)) {
    if (Date.now() > deadline)
      throw new Error('recovery: the first process never reached the marker')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  first.child.kill('SIGKILL')
  await first.exited
  const second = runChild(['recover', db, synchronous, first.stdout().trim()])
  await second.exited
  const result = JSON.parse(second.stdout()) as { status: string; recoveryMs: number }
  if (result.status !== 'succeeded') throw new Error(`recovery: run ended ${result.status}`)
  return {
    recoveryMs: round(result.recoveryMs, 1),
    stepsBeforeKill: RECOVERY_STEPS / 2,
    stepsTotal: RECOVERY_STEPS,
  }
}

async function child(
  mode: string,
  path: string,
  synchronous: Synchronous,
  arg: string,
): Promise<void> {
  const openedAt = performance.now()
  const engine = await Engine.open({ path, app, synchronous })
  if (mode === 'start') {
    const { runId } = await engine.start('crash', { marker: arg })
    process.stdout.write(`${runId}\n`)
    await engine.result(runId, { waitMs: 60_000 })
    return
  }
  const run = await engine.result(arg, { waitMs: 30_000 })
  const recoveryMs = performance.now() - openedAt
  await engine.close()
  process.stdout.write(JSON.stringify({ status: run.status, recoveryMs }))
}

/** Repetitions of each measurement; the best is reported (the machine is shared and noisy). */
const REPEATS = 3

async function best<T>(
  times: number,
  measure: () => Promise<T>,
  score: (value: T) => number,
): Promise<T & { samples: number[] }> {
  const values: T[] = []
  for (let i = 0; i < times; i++) values.push(await measure())
  const sorted = [...values].sort((a, b) => score(a) - score(b))
  return { ...(sorted[0] as T), samples: values.map(score) }
}

/** µs of one single-row write transaction on a bare connection: the floor a step pays. */
async function sqliteTxUs(dir: string, synchronous: Synchronous): Promise<number> {
  // The same storage rules as the engine's own connections (WAL, busy timeout, no automatic
  // checkpoint), through the public helper the replica package opens files with.
  const db = openSqlite(join(dir, 'floor.db'))
  db.exec(`PRAGMA synchronous=${synchronous}`)
  db.exec(
    'CREATE TABLE t (run_id TEXT, seq INTEGER, output TEXT, PRIMARY KEY (run_id, seq)) WITHOUT ROWID',
  )
  const [begin, insert, commit] = [
    'BEGIN IMMEDIATE',
    'INSERT INTO t VALUES (?, ?, ?)',
    'COMMIT',
  ].map((sql) => db.prepare(sql))
  const n = 2_000
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    begin?.run()
    insert?.run('0190d3a0-0000-7000-8000-000000000000', i, String(i))
    commit?.run()
  }
  const us = ((performance.now() - t0) * 1_000) / n
  db.close()
  return round(us, 1)
}

/** Runs every measurement for one `synchronous` setting. */
export async function benchEngine(synchronous: Synchronous) {
  const dir = mkdtempSync(join(os.tmpdir(), `litecell-bench-${synchronous.toLowerCase()}-`))
  let round_ = 0
  const fresh = (): string => {
    const sub = join(dir, String(round_++))
    mkdirSync(sub)
    return sub
  }
  try {
    const steps = await best(
      REPEATS,
      () => stepUs(fresh(), synchronous),
      (v) => v.stepUs,
    )
    return {
      synchronous,
      sqliteSingleRowTxUs: await sqliteTxUs(fresh(), synchronous),
      stepUs: steps.stepUs,
      cpuUsPerStep: steps.cpuUsPerStep,
      stepUsSamples: steps.samples,
      sequential3Step: await best(
        REPEATS,
        () => sequential(fresh(), synchronous),
        (v) => v.meanMs,
      ),
      burst3Step: await best(
        REPEATS,
        () => burst(fresh(), synchronous),
        (v) => -v.workflowsPerSec,
      ),
      recovery: await best(
        REPEATS,
        () => recovery(fresh(), synchronous),
        (v) => v.recoveryMs,
      ),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const [command, ...args] = process.argv.slice(2)
if (command === 'child') {
  const [mode = '', path = '', synchronous = 'NORMAL', arg = ''] = args
  await child(mode, path, synchronous as Synchronous, arg)
} else if (import.meta.url === `file://${process.argv[1]}` || command === undefined) {
  const cpus = os.cpus()
  const machine = {
    loadAverage1m: round(os.loadavg()[0] ?? 0, 2),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  }
  const results = [await benchEngine('NORMAL'), await benchEngine('FULL')]
  const note =
    'after a JIT warm-up, best of 3 per measurement (samples listed; burst samples are negative workflows/s); synchronous=NORMAL is the default (survives a process crash, S3 covers machine loss), FULL fsyncs every commit'
  const targets = {
    stepUs: '<= 40',
    sequentialMeanMs: '<= 0.5',
    burstWorkflowsPerSec: '>= 5000',
    recoveryMs: '<= 100',
  }
  process.stdout.write(`${JSON.stringify({ machine, note, targets, results }, null, 2)}\n`)
}
