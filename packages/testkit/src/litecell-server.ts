import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { LitecellClient } from '@litecell/client'
import { ProcessFamily } from './process-family.js'

/** This repository. */
export const REPO_ROOT = resolve(import.meta.dirname, '../../..')
/**
 * The `litecell` bin, as a user runs it: the bundled CLI, which runs the control plane from its
 * bundle (both rebuilt first when a source changed), so the tests run what users run.
 */
export const CLI_BIN = join(REPO_ROOT, 'packages/cli/bin/litecell.js')

/**
 * Node flags of `litecell serve` as `pnpm start` runs it (the root package.json's `start`
 * script; the container image's entry point has the same, a test checks it), so that tests and
 * benches run the control plane as users do. A small young generation
 * (`--max-semi-space-size=4`; Node's default grows to 16 MB per semi-space): with 10,000
 * tenants the control plane's RSS was 166 MB with the default and 108 MB with it, its CPU per
 * proxied request the same within noise.
 */
export const SERVE_NODE_ARGS: readonly string[] = serveNodeArgs()

function serveNodeArgs(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string }
  }
  const words = scripts.start.trim().split(/\s+/)
  const bin = words.indexOf('packages/cli/bin/litecell.js')
  if (words[0] !== 'node' || bin < 0) throw new Error(`unexpected start script: ${scripts.start}`)
  return words.slice(1, bin)
}
/** How long `litecell serve` may take to print its listening line. */
const START_TIMEOUT_MS = 60_000

/** How to start a {@link LitecellServer}. */
export interface LitecellServerOptions {
  /** The data directory; a fresh temp one (`litecell-<label>-…`) if absent. */
  readonly dataDir?: string
  /** Environment on top of this process's own (or only `inherit`'s part of it). */
  readonly env?: Readonly<Record<string, string>>
  /** Which of this process's variables the server gets. @default every one */
  readonly inherit?: (name: string) => boolean
  /** @default a random `lca_…` token */
  readonly adminToken?: string
  /** The port to listen on (a restart on the same address, say). @default a free one */
  readonly port?: number
  /** Temp data directory label. @default 'server' */
  readonly label?: string
  /**
   * Its own process group, so a terminal's Ctrl-C reaches only this process (which then stops
   * the server properly). @default false
   */
  readonly detached?: boolean
  readonly signal?: AbortSignal
}

/** How a server ended. */
export interface ServerExit {
  /** Exit code of `litecell serve`, or null if a signal ended it. */
  readonly code: number | null
  /** True if it had to be killed (it did not stop within the timeout). */
  readonly wasKilled: boolean
  /** Its processes (workers, Litestream) still alive after it exited; killed since. */
  readonly leftBehind: number[]
}

/**
 * A real `litecell serve` process on a free port, with the embedded S3 server unless told
 * otherwise: what the end-to-end tests, the demo and the system benchmark run against. Every
 * process it starts carries a marker (see {@link ProcessFamily}), so none outlives a stop.
 */
export class LitecellServer {
  readonly url: string
  readonly dataDir: string
  readonly adminToken: string
  /** A client with the admin token. */
  readonly admin: LitecellClient
  readonly process: ChildProcess
  readonly family: ProcessFamily
  readonly #exited: Promise<number | null>
  readonly #output: { text: string }

  private constructor(parts: {
    url: string
    dataDir: string
    adminToken: string
    process: ChildProcess
    family: ProcessFamily
    exited: Promise<number | null>
    output: { text: string }
  }) {
    this.url = parts.url
    this.dataDir = parts.dataDir
    this.adminToken = parts.adminToken
    this.admin = new LitecellClient({
      baseUrl: parts.url || 'http://invalid',
      token: parts.adminToken,
    })
    this.process = parts.process
    this.family = parts.family
    this.#exited = parts.exited
    this.#output = parts.output
  }

  /** Starts the server and resolves once it prints `litecell listening on <url>`. */
  static async start(options: LitecellServerOptions = {}): Promise<LitecellServer> {
    const dataDir =
      options.dataDir ?? mkdtempSync(join(tmpdir(), `litecell-${options.label ?? 'server'}-`))
    const adminToken = options.adminToken ?? `lca_${randomBytes(18).toString('base64url')}`
    const family = new ProcessFamily()
    const inherit = options.inherit ?? (() => true)
    const child = spawn(process.execPath, [...SERVE_NODE_ARGS, CLI_BIN, 'serve'], {
      cwd: REPO_ROOT,
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([name]) => inherit(name))),
        ...options.env,
        ...family.env(),
        LITECELL_PORT: String(options.port ?? 0),
        LITECELL_DATA_DIR: dataDir,
        LITECELL_ADMIN_TOKEN: adminToken,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached === true,
    })
    const output = { text: '' }
    child.stdout!.on('data', (chunk: Buffer) => (output.text += chunk.toString()))
    child.stderr!.on('data', (chunk: Buffer) => (output.text += chunk.toString()))
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
    // Last resort if this process dies first: nothing of the server may outlive it.
    const killOnExit = () => family.killAll()
    process.once('exit', killOnExit)
    void exited.then(() => process.off('exit', killOnExit))
    const server = (url: string) =>
      new LitecellServer({ url, dataDir, adminToken, process: child, family, exited, output })
    try {
      return server(await listeningUrl(child, output, exited, options.signal))
    } catch (err) {
      await server('').stop({ timeoutMs: 0 })
      throw new Error(
        `start litecell serve: ${(err as Error).message} (data in ${dataDir})\n${output.text}`,
        { cause: err },
      )
    }
  }

  /** Everything the server printed (stdout and stderr). */
  output(): string {
    return this.#output.text
  }

  /** False once the server process has exited. */
  get isRunning(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null
  }

  /**
   * Stops the server: SIGTERM (it hibernates every tenant, then exits) and waits; after
   * `timeoutMs` (0: at once) SIGKILL it and everything it started, and likewise whatever of it
   * outlives it by `settleMs` (unless `leaveSurvivors`, for a caller that reports them itself).
   * `signal: 'SIGKILL'` kills the server alone (a crash drill).
   */
  async stop(
    options: {
      signal?: NodeJS.Signals
      timeoutMs?: number
      settleMs?: number
      leaveSurvivors?: boolean
    } = {},
  ): Promise<ServerExit> {
    const timeoutMs = options.timeoutMs ?? 120_000
    let wasKilled = false
    if (this.isRunning) {
      if (timeoutMs > 0) this.process.kill(options.signal ?? 'SIGTERM')
      const timer = setTimeout(() => {
        wasKilled = true
        this.family.killAll()
      }, timeoutMs)
      await this.#exited
      clearTimeout(timer)
    }
    if (options.signal === 'SIGKILL' || options.leaveSurvivors) {
      return { code: this.process.exitCode, wasKilled, leftBehind: [] }
    }
    const leftBehind = await this.family.survivors(wasKilled ? 0 : (options.settleMs ?? 3_000))
    if (leftBehind.length > 0) this.family.killAll()
    return { code: this.process.exitCode, wasKilled, leftBehind }
  }

  /** Deletes the data directory (registry, embedded S3, tenant files, logs). */
  async removeDataDir(): Promise<void> {
    await rm(this.dataDir, { recursive: true, force: true })
  }
}

function listeningUrl(
  child: ChildProcess,
  output: { text: string },
  exited: Promise<number | null>,
  signal: AbortSignal | undefined,
): Promise<string> {
  return new Promise<string>((done, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not listening after ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    )
    child.stdout!.on('data', () => {
      const match = /litecell listening on (http:\/\/\S+)/.exec(output.text)
      if (match?.[1]) {
        clearTimeout(timer)
        done(match[1])
      }
    })
    child.once('error', reject)
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`exited with code ${code} before listening`))
    })
  })
}
