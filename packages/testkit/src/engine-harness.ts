/**
 * The engine's tests' harness: engines on temp-file databases (closed and removed by
 * {@link cleanup}), and a driver for a manual clock.
 */
import { join } from 'node:path'
import { Engine, type AppDefinition, type EngineOptions } from '@litecell/engine'
import type { ManualClock } from './manual-clock.js'
import { removeTempDirs, tempDir } from './temp-dirs.js'

const engines: Engine[] = []

/** Opens an engine on a new temp database; closed by {@link cleanup}. */
export async function openTestEngine(
  app: AppDefinition,
  options: Partial<EngineOptions> = {},
): Promise<{ engine: Engine; path: string }> {
  const path = options.path ?? join(tempDir('engine'), 'tenant.db')
  const engine = await Engine.open({ ...options, path, app })
  engines.push(engine)
  return { engine, path }
}

/** Reopens a database (e.g. after `close`) with possibly another app or clock. */
export async function reopen(
  path: string,
  app: AppDefinition,
  options: Partial<EngineOptions> = {},
): Promise<Engine> {
  const engine = await Engine.open({ ...options, path, app })
  engines.push(engine)
  return engine
}

/** Closes the engines and removes the temp directories of a test. */
export async function cleanup(): Promise<void> {
  for (const engine of engines.splice(0)) await engine.close()
  removeTempDirs()
}

/**
 * Runs an engine with a manual clock until no run is runnable or due: jumps the clock to each
 * next durable timer and waits for idle, at most `maxJumps` times.
 */
export async function runUntilQuiet(
  engine: Engine,
  clock: ManualClock,
  maxJumps = 100,
): Promise<void> {
  for (let i = 0; i < maxJumps; i++) {
    await engine.idle()
    const next = await engine.nextWakeAt()
    if (next === null) return
    clock.nowMs = Math.max(clock.nowMs, next)
  }
  throw new Error(`runUntilQuiet: still busy after ${maxJumps} timer jumps`)
}

export { ManualClock } from './manual-clock.js'
export { tempDir } from './temp-dirs.js'
export { waitFor } from './wait-for.js'
