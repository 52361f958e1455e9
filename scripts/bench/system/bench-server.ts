import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { LitecellClient } from '@litecell/client'
import { isSameProcessAlive, treeOf, type ProcessInfo } from '@litecell/testkit'
import { LitecellServer, REPO_ROOT } from '@litecell/testkit/server'
import { RssSampler } from './rss-sampler.js'
import { delay } from './stats.js'

/** The bench app's module, registered as app `bench`. */
export const BENCH_APP_PATH = join(REPO_ROOT, 'scripts/bench/apps/bench-app.ts')
/** Where logs of a failed scenario are kept for diagnosis. */
export const FAILED_LOGS_DIR = join(REPO_ROOT, 'bench-results/failed-logs')
/** Longest a SIGTERM'd server may take to hibernate its tenants and exit. */
const STOP_TIMEOUT_MS = 120_000
/** Longest its processes (Litestream final syncs) may outlive it. */
const ORPHAN_GRACE_MS = 30_000

/** How a server stopped. */
export interface StopReport {
  readonly exitCode: number | null
  /** Processes of its tree that were still running after the grace period (then killed). */
  readonly orphans: readonly string[]
  /**
   * Litestream config dirs (`<tmp>/litecell-litestream-*`) of this server's tenants that the
   * replica package left behind (a worker SIGKILLed mid-restore leaks its own); removed here.
   */
  readonly leakedTempDirs: number
}

/**
 * A real `litecell serve` (testkit's {@link LitecellServer}) in a fresh temp data dir, with the bench
 * app registered and product defaults for sync interval and lease TTL, plus an RSS sampler
 * over its whole process tree. `stop()` SIGTERMs it, waits for every process it ever had to
 * end (killing and reporting stragglers), and removes the data dir.
 */
export class BenchServer {
  readonly #server: LitecellServer
  readonly sampler: RssSampler
  #stopped: Promise<StopReport> | undefined

  private constructor(server: LitecellServer) {
    this.#server = server
    this.sampler = new RssSampler(server.process.pid!)
    this.sampler.start()
  }

  /** Starts a server; `env` overrides (LITECELL_MAX_WORKERS, LITECELL_IDLE_MS…). */
  static async start(env: Record<string, string> = {}): Promise<BenchServer> {
    const dataDir = mkdtempSync(join(tmpdir(), 'litecell-bench-'))
    try {
      const server = await LitecellServer.start({
        dataDir,
        env: {
          LITECELL_APPS: `bench=${BENCH_APP_PATH}`,
          LITECELL_SYNC_INTERVAL_MS: '1000',
          LITECELL_LEASE_TTL_MS: '10000',
          LITECELL_IDLE_MS: '30000',
          ...env,
        },
      })
      return new BenchServer(server)
    } catch (err) {
      rmSync(dataDir, { recursive: true, force: true })
      throw err
    }
  }

  get admin(): LitecellClient {
    return this.#server.admin
  }

  get dataDir(): string {
    return this.#server.dataDir
  }

  /** False once the server process has exited (or was killed). */
  get isRunning(): boolean {
    const child = this.#server.process
    return child.exitCode === null && child.signalCode === null
  }

  get pid(): number {
    return this.#server.process.pid!
  }

  /** Copies the server's logs (control plane and workers) aside, for a failed scenario. */
  keepLogs(label: string): string {
    const target = join(FAILED_LOGS_DIR, `${label}-${Date.now()}`)
    mkdirSync(target, { recursive: true })
    cpSync(join(this.dataDir, 'logs'), target, { recursive: true })
    writeFileSync(join(target, 'control-plane.out'), this.#server.output())
    return target
  }

  /**
   * SIGKILLs the server and every process of its tree at once (repeated for a second, to
   * catch processes spawned meanwhile). For the bench's safety guard only: a clean stop is
   * {@link stop}.
   */
  async killTree(): Promise<void> {
    for (let round = 0; round < 5; round++) {
      for (const info of treeOf(this.pid)) {
        try {
          process.kill(info.pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
      await delay(200)
    }
  }

  /** Stops the server once (later calls share the first stop). */
  stop(): Promise<StopReport> {
    this.#stopped ??= this.#stop()
    return this.#stopped
  }

  async #stop(): Promise<StopReport> {
    this.sampler.sample()
    const child = this.#server.process
    const { code: exitCode } = await this.#server.stop({ timeoutMs: STOP_TIMEOUT_MS, leaveSurvivors: true })
    this.sampler.stop()
    const orphans = await reapSurvivors(this.sampler.seen().filter((info) => info.pid !== child.pid))
    await this.#server.removeDataDir()
    return { exitCode, orphans, leakedTempDirs: removeLitestreamConfigsOf(this.dataDir) }
  }
}

/** Removes the Litestream config dirs in the temp dir that point into `dataDir`; returns how many. */
function removeLitestreamConfigsOf(dataDir: string): number {
  let removed = 0
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('litecell-litestream-')) continue
    const dir = join(tmpdir(), name)
    try {
      if (!readFileSync(join(dir, 'litestream.yml'), 'utf8').includes(`${dataDir}/`)) continue
      rmSync(dir, { recursive: true, force: true })
      removed += 1
    } catch {
      // not ours, or gone meanwhile
    }
  }
  return removed
}

/** Waits for the processes to end; SIGKILLs (by pid, checked start time) and names those that do not. */
async function reapSurvivors(processes: readonly ProcessInfo[]): Promise<string[]> {
  const deadline = Date.now() + ORPHAN_GRACE_MS
  let alive = processes.filter(isSameProcessAlive)
  while (alive.length > 0 && Date.now() < deadline) {
    await delay(100)
    alive = alive.filter(isSameProcessAlive)
  }
  for (const info of alive) {
    try {
      process.kill(info.pid, 'SIGKILL')
    } catch {
      // ended just now
    }
  }
  return alive.map((info) => `${info.pid} ${info.command}`)
}
