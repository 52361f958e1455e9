import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import {
  streamLogFile,
  tenantLogPath,
  type Launcher,
  type LogRequest,
  type WorkerProcess,
  type WorkerSpec,
} from '@litecell/control-plane'
import { InProcessReplicas } from './in-process-replicas.js'
import { InProcessWorker, type InProcessFetch } from './in-process-worker.js'

/**
 * A launcher whose workers run inside the test's process ({@link InProcessWorker}): tenant
 * folders under `<root>/tenants/`, replicas under `<root>/replicas/`, logs under `<root>/logs/`. The control plane
 * reaches a worker through {@link fetch} (pass it as the app's `workerFetch`); workers reach
 * the control plane through the fetch given to {@link connect}.
 */
export class InProcessLauncher implements Launcher {
  readonly replicas: InProcessReplicas
  readonly #tenantsDir: string
  readonly #logsDir: string
  readonly #workers = new Map<string, InProcessWorker>()
  #controlFetch: InProcessFetch | undefined

  constructor(root: string) {
    this.#tenantsDir = join(root, 'tenants')
    this.#logsDir = join(root, 'logs')
    this.replicas = new InProcessReplicas(join(root, 'replicas'))
  }

  /** Where workers call back: the control plane app's `request`. */
  connect(controlFetch: InProcessFetch): void {
    this.#controlFetch = controlFetch
  }

  launch(spec: WorkerSpec): WorkerProcess {
    if (!this.#controlFetch) throw new Error('InProcessLauncher: connect() the control plane first')
    const worker = new InProcessWorker({
      settings: spec.settings,
      tenantDir: join(this.#tenantsDir, spec.settings.tenantId),
      replicas: this.replicas,
      controlFetch: this.#controlFetch,
    })
    this.#workers.set(worker.url, worker)
    void worker.exited.then(() => this.#workers.delete(worker.url))
    return worker
  }

  /** Sends a request to the worker serving at the URL's origin; fails like a refused connection otherwise. */
  readonly fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const app = this.#workers.get(new URL(url).origin)?.app
    if (!app)
      throw new TypeError('fetch failed', { cause: new Error(`no in-process worker at ${url}`) })
    return app.request(url, init)
  }

  /**
   * `<root>/logs/<id>.log`, as the local launcher serves it. In-process workers write nothing
   * there (their logs are the test's); a test writes the file to check the route.
   */
  logs(tenantId: string, request: LogRequest): ReadableStream<Uint8Array> {
    return streamLogFile(tenantLogPath(this.#logsDir, tenantId), request)
  }

  hasLocalState(tenantId: string): boolean {
    return existsSync(join(this.#tenantsDir, tenantId))
  }

  async removeLocalState(tenantId: string): Promise<void> {
    await rm(join(this.#tenantsDir, tenantId), { recursive: true, force: true })
  }
}
