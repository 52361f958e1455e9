import { existsSync } from 'node:fs'
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { WorkerExit, WorkerProcess } from '@litecell/control-plane'
import { Engine } from '@litecell/engine'
import {
  EXIT_APP_LOAD_FAILED,
  EXIT_FAILED,
  EXIT_HIBERNATED,
  EXIT_NO_RESTORE_POINT,
  TENANT_DB_FILE,
  type MetricsDelta,
  type WorkerSettings,
} from '@litecell/protocol'
import {
  ControlClient,
  RunStatusStream,
  createTenantApi,
  isEngineIdle,
  loadApp,
} from '@litecell/worker'
import type { Hono } from 'hono'
import type { InProcessReplicas } from './in-process-replicas.js'

/** How an in-process worker reaches the control plane (its app's `request`). */
export type InProcessFetch = (url: string, init: RequestInit) => Promise<Response>

const NO_METRICS: MetricsDelta = { runs: {}, stepMs: [], steps: 0, replicationRestarts: 0 }

/**
 * A worker in the test's own process: the real engine and the real tenant API
 * (`createTenantApi`) reached through `app.request`, and the real `ControlClient` calling the
 * control plane's app. What a process adds is left out: no lease renewal (tests give leases a
 * long life), no idle hibernation, no Litestream (its replica is an {@link InProcessReplicas}
 * folder, saved at hibernation and at each sync point). SIGTERM hibernates; SIGKILL closes the
 * engine and keeps the files, as a crash would.
 */
export class InProcessWorker implements WorkerProcess {
  readonly pid = undefined
  readonly exited: Promise<WorkerExit>
  /** Where the control plane reaches the worker's app. */
  readonly url: string
  readonly #settings: WorkerSettings
  readonly #tenantDir: string
  readonly #replicas: InProcessReplicas
  readonly #client: ControlClient
  readonly #runStream: RunStatusStream
  #engine: Engine | undefined
  #app: Hono | undefined
  #stopping: Promise<number> | undefined
  #exit!: (exit: WorkerExit) => void

  constructor(options: {
    settings: WorkerSettings
    tenantDir: string
    replicas: InProcessReplicas
    controlFetch: InProcessFetch
  }) {
    const { settings } = options
    this.#settings = settings
    this.#tenantDir = options.tenantDir
    this.#replicas = options.replicas
    this.url = `http://${settings.tenantId}-${settings.epoch}.worker.in-process`
    this.#client = new ControlClient({
      baseUrl: settings.controlUrl,
      tenantId: settings.tenantId,
      epoch: settings.epoch,
      secret: settings.workerSecret,
      fetch: options.controlFetch,
    })
    this.#runStream = new RunStatusStream(settings.tenantId)
    this.exited = new Promise((resolve) => (this.#exit = resolve))
    this.#start().catch(async (err: unknown) => {
      const { code: errorCode, message } = err as { code?: unknown; message?: unknown }
      let code = errorCode === 'NO_RESTORE_POINT' ? EXIT_NO_RESTORE_POINT : EXIT_FAILED
      if (errorCode === 'APP_LOAD_FAILED') {
        // As a worker process does: report the app's error, then exit with the protocol's code.
        await this.#client.refused(errorCode, String(message)).catch(() => undefined)
        code = EXIT_APP_LOAD_FAILED
      }
      void this.#engine?.close().catch(() => undefined)
      this.#exit({ code, signal: null })
    })
  }

  /** The worker's app once it is serving; undefined before and after. */
  get app(): Hono | undefined {
    return this.#stopping ? undefined : this.#app
  }

  async #start(): Promise<void> {
    const { tenantId, restoreFrom } = this.#settings
    const app = await loadApp(this.#settings.appPath)
    const dbPath = join(this.#tenantDir, TENANT_DB_FILE)
    await mkdir(this.#tenantDir, { recursive: true })
    if (
      !existsSync(dbPath) &&
      !(await this.#replicas.restore(tenantId, this.#tenantDir)) &&
      restoreFrom
    ) {
      if (!(await this.#replicas.restore(restoreFrom.tenantId, this.#tenantDir))) {
        throw Object.assign(new Error(`fork ${restoreFrom.tenantId}: nothing to restore`), {
          code: 'NO_RESTORE_POINT',
        })
      }
    }
    const engine = await Engine.open({
      path: dbPath,
      app,
      ...(this.#settings.appName !== undefined ? { appName: this.#settings.appName } : {}),
      ...(this.#settings.appUpgradeFrom !== undefined
        ? { upgradeFrom: this.#settings.appUpgradeFrom }
        : {}),
      ...(this.#settings.concurrency !== undefined
        ? { concurrency: this.#settings.concurrency }
        : {}),
      ...(this.#settings.queryTimeoutMs !== undefined
        ? { queryTimeoutMs: this.#settings.queryTimeoutMs }
        : {}),
      observer: {
        onRunStatus: (runId, workflow, status) => this.#runStream.publish(runId, workflow, status),
      },
    })
    this.#engine = engine
    this.#app = createTenantApi({
      tenantId,
      engine,
      workerSecret: this.#settings.workerSecret,
      scratchDir: this.#tenantDir,
      isStopping: () => this.#stopping !== undefined,
      hibernate: () => this.#hibernate(),
      isIdle: () => isEngineIdle(engine),
      syncPoint: async () => ({
        at: await this.#replicas.save(tenantId, (dir) =>
          engine.snapshot(join(dir, TENANT_DB_FILE)),
        ),
      }),
      runStream: this.#runStream,
    })
    await this.#client.ready(this.url, process.pid, engine.recovery.quarantined.length)
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (signal !== 'SIGKILL') {
      void this.#hibernate()
      return
    }
    this.#stopping ??= (async () => {
      this.#runStream.close()
      await this.#engine?.close().catch(() => undefined)
      this.#exit({ code: null, signal: 'SIGKILL' })
      return 137
    })()
  }

  /** Closes the engine, saves its files as the replica, removes them, reports, exits 0. */
  #hibernate(): Promise<number> {
    this.#stopping ??= (async () => {
      this.#runStream.close()
      let code = EXIT_HIBERNATED
      try {
        const engine = this.#engine!
        const nextWakeAt = await engine.nextWakeAt()
        await engine.close()
        await this.#replicas.save(this.#settings.tenantId, async (dir) => {
          for (const name of [TENANT_DB_FILE, `${TENANT_DB_FILE}-wal`]) {
            const file = join(this.#tenantDir, name)
            if (existsSync(file)) await copyFile(file, join(dir, name))
          }
        })
        await rm(this.#tenantDir, { recursive: true, force: true })
        await this.#client.hibernated(nextWakeAt, NO_METRICS).catch(() => undefined)
      } catch {
        code = EXIT_FAILED
      }
      this.#exit({ code, signal: null })
      return code
    })()
    return this.#stopping
  }
}
