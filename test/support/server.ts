import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { ApiClient } from './api-client.js'

const REPO = resolve(import.meta.dirname, '../..')
const CLI = join(REPO, 'packages/cli/src/main.ts')

/** A real `litecell serve` process for end-to-end tests. */
export interface TestServer {
  readonly url: string
  readonly dataDir: string
  readonly adminToken: string
  readonly admin: ApiClient
  readonly process: ChildProcess
  /** stdout so far. */
  output(): string
  /** SIGTERM and wait (clean stop), or SIGKILL. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** A fresh, empty data directory for a test server. */
export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'litecell-e2e-'))
}

/**
 * Starts `litecell serve` as a child process on a free port with a fresh data directory
 * (or the given one), short idle and lease times, and waits for its "listening" line.
 */
export async function startServer(
  options: { dataDir?: string; env?: Record<string, string>; adminToken?: string } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? newDataDir()
  const adminToken = options.adminToken ?? 'lca_test-admin-token'
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
    cwd: REPO,
    env: {
      ...process.env,
      LITECELL_PORT: '0',
      LITECELL_DATA_DIR: dataDir,
      LITECELL_ADMIN_TOKEN: adminToken,
      LITECELL_IDLE_MS: '3000',
      LITECELL_LEASE_TTL_MS: '6000',
      LITECELL_SYNC_INTERVAL_MS: '200',
      LITECELL_APPS: `test=${join(REPO, 'test/apps/test-app.ts')}`,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000)
    const onData = () => {
      const match = /litecell listening on (\S+)/.exec(output)
      if (match?.[1]) {
        clearTimeout(timer)
        resolveUrl(match[1])
      }
    }
    child.stdout!.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before listening:\n${output}`))
    })
  })
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)))
  return {
    url,
    dataDir,
    adminToken,
    admin: new ApiClient(url, adminToken),
    process: child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}

/** Removes a test's data directory. */
export async function removeDataDir(dataDir: string): Promise<void> {
  await rm(dataDir, { recursive: true, force: true })
}
