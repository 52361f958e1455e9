import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import type { ScenarioRecorder } from './scenario.js'

const ENGINE_BENCH = resolve(import.meta.dirname, '../engine.ts')
/** Longest `bench:engine` may take on a busy machine. */
const ENGINE_TIMEOUT_MS = 15 * 60_000

interface EngineResult {
  synchronous: string
  stepUs: number
  sequential3Step: { meanMs: number; p50Ms: number; p99Ms: number }
  burst3Step: { workflowsPerSec: number }
  recovery: { recoveryMs: number }
}

/**
 * Scenario 1: runs `scripts/bench/engine.ts` (the `bench:engine` script, another owner's) as
 * a child process and includes its JSON as it printed it.
 */
export async function benchEngineFigures(recorder: ScenarioRecorder): Promise<void> {
  const json = await runEngineBench()
  recorder.figures.engine = json
  const results = (json as { results?: EngineResult[] }).results ?? []
  recorder.check('bench:engine printed results for both synchronous modes', results.length === 2)
  for (const result of results) {
    const mode = result.synchronous
    recorder.row(`[${mode}] µs per step`, result.stepUs)
    recorder.row(
      `[${mode}] 3-step workflow mean / p50 / p99 ms`,
      `${result.sequential3Step.meanMs} / ${result.sequential3Step.p50Ms} / ${result.sequential3Step.p99Ms}`,
    )
    recorder.row(`[${mode}] burst 3-step workflows/s`, result.burst3Step.workflowsPerSec)
    recorder.row(`[${mode}] recovery ms`, result.recovery.recoveryMs)
  }
}

async function runEngineBench(): Promise<unknown> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENGINE_BENCH], {
    cwd: resolve(import.meta.dirname, '../../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), ENGINE_TIMEOUT_MS)
  const code = await new Promise<number | null>((done) => child.once('exit', (exitCode) => done(exitCode)))
  clearTimeout(timer)
  if (code !== 0) throw new Error(`bench:engine exited with ${code}:\n${stderr.slice(-2000)}`)
  try {
    return JSON.parse(stdout)
  } catch (err) {
    throw new Error(`bench:engine printed no JSON:\n${stdout.slice(0, 500)}`, { cause: err })
  }
}
