/**
 * Test support for the engine's own tests (not exported from the package): temp-file
 * databases, a settable clock, and the one polling helper.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AppDefinition } from './app.js'
import { Engine } from './engine.js'
import type { EngineOptions } from './engine-options.js'

/** A clock tests move by hand. */
export class ManualClock {
  nowMs: number
  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.nowMs = startMs
  }
  readonly now = (): number => this.nowMs
  advance(ms: number): void {
    this.nowMs += ms
  }
}

/** A fresh temp directory, removed by {@link cleanup}. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'litecell-engine-'))
  dirs.push(dir)
  return dir
}

const dirs: string[] = []
const engines: Engine[] = []

/** Opens an engine on a new temp database; closed by {@link cleanup}. */
export async function openTestEngine(
  app: AppDefinition,
  options: Partial<EngineOptions> = {},
): Promise<{ engine: Engine; path: string }> {
  const path = options.path ?? join(tempDir(), 'tenant.db')
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
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
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

/** Polls `check` until it returns a truthy value (for cross-process waits only). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000)
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline)
      throw new Error(`waitFor: timed out waiting for ${options.what ?? 'condition'}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
