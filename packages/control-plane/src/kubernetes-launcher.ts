import { checkAccess } from './kubernetes-access-review.js'
import { KubernetesClient, inClusterConnection } from './kubernetes-client.js'
import {
  DEFAULT_POD_POLL_MS,
  DEFAULT_TERMINATION_GRACE_SECONDS,
  DEFAULT_WORKER_COMMAND,
  DEFAULT_WORKER_CPU_LIMIT,
  DEFAULT_WORKER_CPU_REQUEST,
  DEFAULT_WORKER_MEMORY,
  DEFAULT_WORKER_WORKING_DIR,
  validateKubernetesLauncherOptions,
  type KubernetesLauncherOptions,
} from './kubernetes-launcher-options.js'
import {
  WORKER_FINALIZER,
  WORKER_SELECTOR,
  workerPodObjects,
  type WorkerPodTemplate,
} from './kubernetes-pod-manifest.js'
import { KubernetesWorker } from './kubernetes-worker.js'
import type { Launcher, WorkerSpec } from './launcher.js'

/** Added to the lease TTL before a worker whose kubelet never confirmed its end counts as fenced. */
const FENCE_MARGIN_MS = 2_000

/**
 * Launches each worker as a Kubernetes Pod (restartPolicy Never) in one namespace, through the
 * REST API with the control plane's service account: pod `litecell-<tenant>-<epoch>`, one
 * per lease, so a restarted control plane cannot start a second pod for an epoch (the create
 * fails with `K8S_CONFLICT`). The worker's secrets travel in a per-pod Secret owned by the pod.
 * See {@link KubernetesWorker} for how an exit is established and what a kill does.
 *
 * @example
 * const launcher = new KubernetesLauncher({ image: 'registry.example.com/litecell:1.0' })
 * await launcher.preflight()
 * await ControlPlane.start(config, { launcher })
 */
export class KubernetesLauncher implements Launcher {
  readonly #client: KubernetesClient
  readonly #template: WorkerPodTemplate
  readonly #pollMs: number
  readonly #workers = new Set<KubernetesWorker>()

  constructor(options: KubernetesLauncherOptions) {
    validateKubernetesLauncherOptions(options)
    const connection =
      options.connection ??
      inClusterConnection(process.env, options.namespace ? { namespace: options.namespace } : {})
    this.#client = new KubernetesClient(connection)
    this.#template = {
      image: options.image,
      command: options.command ?? DEFAULT_WORKER_COMMAND,
      workingDir: options.workingDir ?? DEFAULT_WORKER_WORKING_DIR,
      memory: options.memory ?? DEFAULT_WORKER_MEMORY,
      cpuLimit: options.cpuLimit ?? DEFAULT_WORKER_CPU_LIMIT,
      cpuRequest: options.cpuRequest ?? DEFAULT_WORKER_CPU_REQUEST,
      terminationGracePeriodSeconds:
        options.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS,
    }
    this.#pollMs = options.pollMs ?? DEFAULT_POD_POLL_MS
  }

  /** The namespace worker pods are created in. */
  get namespace(): string {
    return this.#client.namespace
  }

  /**
   * Checks, before the control plane serves, that the namespace exists and the service account
   * holds every permission the launcher uses (`K8S_NOT_FOUND`, `K8S_FORBIDDEN` naming what is
   * missing, `K8S_UNAUTHORIZED`…), and releases worker
   * pods a previous control plane left ended (deletes them and drops their finalizer).
   * Running ones are left alone: they fence themselves when their lease is not renewed.
   */
  async preflight(): Promise<void> {
    const client = this.#client
    const list = await client.json<{ items?: LeftPod[] }>(
      'GET',
      `${client.path('pods')}?labelSelector=${encodeURIComponent(WORKER_SELECTOR)}`,
      `list worker pods in namespace ${client.namespace}`,
    )
    await checkAccess(client)
    for (const pod of list.items ?? []) {
      const name = pod.metadata?.name
      const phase = pod.status?.phase
      if (!name || (phase !== 'Succeeded' && phase !== 'Failed')) continue
      if (!pod.metadata?.deletionTimestamp) {
        await client.json(
          'DELETE',
          `${client.path('pods', name)}?gracePeriodSeconds=0`,
          `delete ended pod ${name}`,
        )
      }
      const finalizers = (pod.metadata?.finalizers ?? []).filter(
        (finalizer) => finalizer !== WORKER_FINALIZER,
      )
      await client.json(
        'PATCH',
        client.path('pods', name),
        `release ended pod ${name}`,
        { metadata: { finalizers } },
        'application/merge-patch+json',
      )
    }
  }

  /**
   * In the background: creates the worker's Secret and Pod. A failure (with its code) is
   * written to the tenant's log and ends the worker at once.
   */
  launch(spec: WorkerSpec): KubernetesWorker {
    const leaseTtlMs = spec.settings.leaseTtlMs
    const worker = new KubernetesWorker({
      client: this.#client,
      objects: workerPodObjects(spec, this.#client.namespace, this.#template),
      logPath: spec.logPath,
      pollMs: this.#pollMs,
      gracePeriodSeconds: this.#template.terminationGracePeriodSeconds,
      fenceMs: leaseTtlMs + FENCE_MARGIN_MS,
    })
    this.#workers.add(worker)
    void worker.exited.then(() => this.#workers.delete(worker))
    return worker
  }

  /** A pod's emptyDir dies with it: nothing of a tenant outlives its worker here. */
  hasLocalState(): boolean {
    return false
  }

  async removeLocalState(): Promise<void> {}

  /** Stops watching pods still running (the fleet has hibernated the ones it could). */
  close(): void {
    for (const worker of this.#workers) worker.abandon()
    this.#workers.clear()
  }
}

/** The parts of a listed pod {@link KubernetesLauncher.preflight} reads. */
interface LeftPod {
  metadata?: { name?: string; deletionTimestamp?: string; finalizers?: string[] }
  status?: { phase?: string }
}
