import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { ProcessFamily } from './process-family.js'

const REPO = resolve(import.meta.dirname, '../..')
const CLI = join(REPO, 'packages/cli/src/main.ts')
/** How long `litecell serve` may take to print its listening line. */
const START_TIMEOUT_MS = 60_000
/** How long a SIGTERM'd server may take to hibernate its tenants and exit. */
const STOP_TIMEOUT_MS = 60_000
/** Lines of server output kept for error messages. */
const OUTPUT_TAIL_LINES = 20
/** How long processes of the server may take to go once it exited. */
const SETTLE_MS = 3_000

/** How a {@link DemoServer} ended. */
export interface ServerExit {
  /** Exit code of `litecell serve`, or null if a signal ended it. */
  readonly code: number | null
  /** True if it had to be killed (it did not stop within the timeout). */
  readonly wasKilled: boolean
  /** Its processes (workers, Litestream) still alive after it exited; killed since. */
  readonly leftBehind: number[]
}

/**
 * A real `litecell serve` process on a free port, with the embedded S3 server and a fresh
 * temp data directory. It runs in its own process group, so a terminal's Ctrl-C reaches
 * the demo only (which then stops the server properly). A hard kill takes the server's
 * group and every process it started (see {@link ProcessFamily}).
 */
export class DemoServer {
  readonly url: string
  readonly dataDir: string
  readonly adminToken: string
  readonly #child: ChildProcess
  readonly #exited: Promise<number | null>
  readonly #output: string[]
  readonly #family: ProcessFamily

  private constructor(parts: {
    url: string
    dataDir: string
    adminToken: string
    child: ChildProcess
    exited: Promise<number | null>
    output: string[]
    family: ProcessFamily
  }) {
    this.url = parts.url
    this.dataDir = parts.dataDir
    this.adminToken = parts.adminToken
    this.#child = parts.child
    this.#exited = parts.exited
    this.#output = parts.output
    this.#family = parts.family
  }

  /**
   * Starts the server and resolves once it prints `litecell listening on <url>`. If it does
   * not (or `signal` aborts first), it is killed; its data directory is kept for its logs,
   * unless the start was aborted.
   */
  static async start(env: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<DemoServer> {
    const dataDir = mkdtempSync(join(tmpdir(), 'litecell-demo-'))
    const adminToken = `lca_demo_${randomBytes(18).toString('base64url')}`
    const family = new ProcessFamily()
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
      cwd: REPO,
      env: {
        ...inheritedEnv(),
        ...env,
        ...family.env(),
        LITECELL_PORT: '0',
        LITECELL_DATA_DIR: dataDir,
        LITECELL_ADMIN_TOKEN: adminToken,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    const output: string[] = []
    const collect = (chunk: Buffer) => {
      output.push(...chunk.toString().split('\n').filter(Boolean))
      output.splice(0, Math.max(0, output.length - OUTPUT_TAIL_LINES))
    }
    child.stdout!.on('data', collect)
    child.stderr!.on('data', collect)
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
    // Last resort if the demo itself dies: nothing of the server may outlive it.
    const killOnExit = () => {
      killGroup(child.pid)
      family.killAll()
    }
    process.once('exit', killOnExit)
    void exited.then(() => process.off('exit', killOnExit))
    const server = (url: string) => new DemoServer({ url, dataDir, adminToken, child, exited, output, family })
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        const timer = setTimeout(() => reject(new Error(`not listening after ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS)
        child.stdout!.on('data', () => {
          const match = /litecell listening on (http:\/\/\S+)/.exec(output.join('\n'))
          if (match?.[1]) {
            clearTimeout(timer)
            resolveUrl(match[1])
          }
        })
        child.once('error', reject)
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
        void exited.then((code) => {
          clearTimeout(timer)
          reject(new Error(`exited with code ${code} before listening`))
        })
      })
      return server(url)
    } catch (err) {
      const failed = server('')
      await failed.stop({ timeoutMs: 0 })
      if (signal?.aborted) {
        await failed.removeDataDir()
        throw err
      }
      throw new Error(`start litecell serve: ${(err as Error).message} (data in ${dataDir})\n${output.join('\n')}`, { cause: err })
    }
  }

  /** The last lines the server printed (stdout and stderr). */
  outputTail(): string {
    return this.#output.join('\n')
  }

  /**
   * SIGTERM (the server hibernates every tenant, then exits) and wait. If it takes longer
   * than `timeoutMs` (0: at once), SIGKILL it and everything it started; likewise whatever
   * of it outlives it.
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<ServerExit> {
    const timeoutMs = options.timeoutMs ?? STOP_TIMEOUT_MS
    let wasKilled = false
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      if (timeoutMs > 0) this.#child.kill('SIGTERM')
      const timer = setTimeout(() => {
        wasKilled = true
        killGroup(this.#child.pid)
        this.#family.killAll()
      }, timeoutMs)
      await this.#exited
      clearTimeout(timer)
    }
    const leftBehind = await this.#family.survivors(wasKilled ? 0 : SETTLE_MS)
    if (leftBehind.length > 0) this.#family.killAll()
    return { code: this.#child.exitCode, wasKilled, leftBehind }
  }

  /** Deletes the data directory (registry, embedded S3, tenant files, logs). */
  async removeDataDir(): Promise<void> {
    await rm(this.dataDir, { recursive: true, force: true })
  }
}

/** This process's environment minus LITECELL_* settings: the demo always runs on its own embedded S3. */
function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('LITECELL_')))
}

function killGroup(pgid: number | undefined): void {
  if (pgid === undefined) return
  try {
    process.kill(-pgid, 'SIGKILL')
  } catch {
    // ESRCH: the group is gone already
  }
}
