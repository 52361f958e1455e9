/**
 * The in-process harness: the control plane's real app (`createControlPlaneApp`: auth, API,
 * fleet, registry, tenant operations) with {@link InProcessLauncher} workers, all reached
 * through `app.request()`. No port, no process, no Litestream, no S3: route tests (auth, input
 * validation) run in well under a second each. What needs real processes (crashes, files on
 * disk, logs, replication) stays in the end-to-end suite.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LitecellClient } from '@litecell/client'
import {
  Registry,
  WakeScheduler,
  createControlPlaneApp,
  type ControlPlaneApp,
} from '@litecell/control-plane'
import { hashSecret } from '@litecell/protocol'
import pino from 'pino'
import { afterAll, beforeAll } from 'vitest'
import { TEST_ADMIN_TOKEN, TEST_APP_PATH } from '../e2e.js'
import { InProcessLauncher } from './in-process-launcher.js'

/** The origin in-process requests are addressed to (no socket behind it). */
export const IN_PROCESS_URL = 'http://control-plane.in-process'

/** Options of {@link startInProcessServer}. */
export interface InProcessServerOptions {
  /** Apps by name (`default` required). @default the test app as `default` and `test` */
  readonly apps?: Readonly<Record<string, string>>
  /** @default 16 */
  readonly maxWorkers?: number
}

/** A control plane app with in-process workers. */
export class InProcessServer {
  readonly dataDir: string
  readonly adminToken = TEST_ADMIN_TOKEN
  readonly launcher: InProcessLauncher
  readonly registry: Registry
  readonly app: ControlPlaneApp
  /** The control plane's log lines (JSON). */
  readonly logLines: string[]
  /** A client with the admin token. */
  readonly admin: LitecellClient

  private constructor(parts: {
    dataDir: string
    launcher: InProcessLauncher
    registry: Registry
    app: ControlPlaneApp
    logLines: string[]
  }) {
    this.dataDir = parts.dataDir
    this.launcher = parts.launcher
    this.registry = parts.registry
    this.app = parts.app
    this.logLines = parts.logLines
    this.admin = this.client(this.adminToken)
  }

  static async start(options: InProcessServerOptions = {}): Promise<InProcessServer> {
    const dataDir = await mkdtemp(join(tmpdir(), 'litecell-in-process-'))
    await mkdir(join(dataDir, 'logs'), { recursive: true })
    const logLines: string[] = []
    const log = pino(
      { base: { component: 'control-plane' } },
      { write: (line: string) => void logLines.push(line) },
    )
    const launcher = new InProcessLauncher(dataDir)
    const registry = Registry.open(join(dataDir, 'registry.db'))
    const app = createControlPlaneApp({
      registry,
      launcher,
      replicas: launcher.replicas,
      workerFetch: launcher.fetch,
      // Workers get these settings but keep their replicas in the launcher's folder.
      storage: { bucket: 'in-process', prefix: '', region: 'us-east-1' },
      apps: options.apps ?? { default: TEST_APP_PATH, test: TEST_APP_PATH },
      adminTokenHash: hashSecret(TEST_ADMIN_TOKEN),
      log,
      dataDir,
      maxWorkers: options.maxWorkers ?? 16,
      // In-process workers neither renew leases nor hibernate when idle: a lease that
      // outlives any test keeps the control plane from expiring them.
      idleMs: 600_000,
      leaseTtlMs: 600_000,
      syncIntervalMs: 1_000,
      controlUrl: () => IN_PROCESS_URL,
    })
    launcher.connect((url, init) => Promise.resolve(app.api.request(url, init)))
    return new InProcessServer({ dataDir, launcher, registry, app, logLines })
  }

  /** One request to the API, as a client would send it. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return this.app.api.request(`${IN_PROCESS_URL}${path}`, init)
  }

  /**
   * A wake scheduler over this server's registry and fleet, not started (in-process servers
   * run none by themselves, so tests decide when due tenants are woken).
   */
  wakeScheduler(options: { intervalMs?: number; maxWakes?: number } = {}): WakeScheduler {
    return new WakeScheduler({
      registry: this.registry,
      fleet: this.app.fleet,
      log: pino({ level: 'silent' }),
      ...options,
    })
  }

  /** A client with the given token (none: unauthenticated). */
  client(token?: string): LitecellClient {
    return new LitecellClient({
      baseUrl: IN_PROCESS_URL,
      token,
      fetch: (url, init) => Promise.resolve(this.app.api.request(url, init)),
    })
  }

  /** Hibernates every tenant, closes the registry and removes the data directory. */
  async stop(): Promise<void> {
    await this.app.fleet.close()
    this.registry.close()
    if (!process.env.LITECELL_KEEP_DATA) await rm(this.dataDir, { recursive: true, force: true })
  }
}

/**
 * An in-process server for the whole file: started in `beforeAll`, stopped in `afterAll`.
 * Read its parts from the returned handle inside tests.
 *
 * @example
 * const server = useInProcessServer()
 * test('…', async () => { await server.admin.createTenant({ id: 'acme', app: 'test' }) })
 */
export function useInProcessServer(options: InProcessServerOptions = {}): InProcessHandle {
  const handle = new InProcessHandle()
  beforeAll(async () => {
    handle.current = await InProcessServer.start(options)
  })
  afterAll(async () => {
    await handle.started?.stop()
  })
  return handle
}

/** The file's in-process server, once `beforeAll` has started it. */
export class InProcessHandle {
  #current: InProcessServer | undefined

  get current(): InProcessServer {
    if (!this.#current)
      throw new Error('the in-process server is not started yet (use it inside tests)')
    return this.#current
  }

  /** The server if it started (for `afterAll`). */
  get started(): InProcessServer | undefined {
    return this.#current
  }

  set current(server: InProcessServer) {
    this.#current = server
  }

  get admin(): LitecellClient {
    return this.current.admin
  }

  get adminToken(): string {
    return this.current.adminToken
  }

  get dataDir(): string {
    return this.current.dataDir
  }

  fetch(path: string, init?: RequestInit): Promise<Response> {
    return this.current.fetch(path, init)
  }

  client(token?: string): LitecellClient {
    return this.current.client(token)
  }
}

export { InProcessLauncher } from './in-process-launcher.js'
export { InProcessReplicas } from './in-process-replicas.js'
export { InProcessWorker } from './in-process-worker.js'
