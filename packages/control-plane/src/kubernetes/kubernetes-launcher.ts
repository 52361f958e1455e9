import type { AdoptedWorker, Launcher, WorkerSpec } from '../launcher.js'
import { checkAccess } from './access-review.js'
import { KubernetesApi, loadKubeConfig } from './kubernetes-api.js'
import type { KubernetesError } from './kubernetes-error.js'
import {
  DEFAULT_TERMINATION_GRACE_SECONDS,
  DEFAULT_WORKER_COMMAND,
  DEFAULT_WORKER_CPU_LIMIT,
  DEFAULT_WORKER_CPU_REQUEST,
  DEFAULT_WORKER_MEMORY,
  DEFAULT_WORKER_WORKING_DIR,
  validateKubernetesLauncherOptions,
  type KubernetesLauncherOptions,
} from './launcher-options.js'
import {
  WORKER_FINALIZER,
  WORKER_SELECTOR,
  workerPodName,
  workerPodObjects,
  type WorkerPodTemplate,
} from './pod-manifest.js'
import { PodWatch } from './pod-watch.js'
import { WorkerPod } from './worker-pod.js'

/** Added to the lease TTL before a worker whose kubelet never confirmed its end counts as fenced. */
const FENCE_MARGIN_MS = 2_000

/**
 * Launches each worker as a Kubernetes Pod (restartPolicy Never) in one namespace, through the
 * official `@kubernetes/client-node` with the control plane's service account (in a cluster)
 * or the user's kubeconfig: pod `litecell-<tenant>-<epoch>`, one per lease, so a restarted
 * control plane cannot start a second pod for an epoch (the create fails with
 * `K8S_CONFLICT`). The worker's secrets travel in a per-pod Secret owned by the pod. One watch
 * follows every worker pod; see {@link WorkerPod} for how an exit is established and what a
 * kill does.
 *
 * @example
 * const launcher = new KubernetesLauncher({ image: 'registry.example.com/litecell:1.0' })
 * await launcher.preflight()
 * await ControlPlane.start(config, { launcher })
 */
export class KubernetesLauncher implements Launcher {
  /** Pods run on other nodes, with disks that die with them (see {@link Launcher}). */
  readonly remoteWorkers = true
  readonly #api: KubernetesApi
  readonly #watch: PodWatch
  readonly #template: WorkerPodTemplate
  readonly #workers = new Set<WorkerPod>()

  constructor(options: KubernetesLauncherOptions) {
    validateKubernetesLauncherOptions(options)
    const loaded = loadKubeConfig({
      ...(options.connection ? { connection: options.connection } : {}),
      ...(options.namespace ? { namespace: options.namespace } : {}),
    })
    this.#api = new KubernetesApi(loaded)
    this.#watch = new PodWatch(loaded.config, this.#api, WORKER_SELECTOR)
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
  }

  /**
   * Pods' output is in the cluster's pod logs, not in a file here (the launcher has none of its
   * own to serve yet): say how to read them.
   */
  logsUnavailableHint(tenantId: string): string {
    return `workers run as Kubernetes pods; read tenant ${tenantId}'s logs with \`kubectl logs -n ${this.namespace} -l litecell.dev/tenant=${tenantId} --tail=100\``
  }

  /** The namespace worker pods are created in. */
  get namespace(): string {
    return this.#api.namespace
  }

  /**
   * Checks, before the control plane serves, that the namespace exists and the account holds
   * every permission the launcher uses (`K8S_NOT_FOUND`, `K8S_FORBIDDEN` naming what is
   * missing, `K8S_UNAUTHORIZED`…), and releases worker pods a previous control plane left
   * ended (deletes them and drops their finalizer). Running ones are left alone: their
   * heartbeats get them adopted (see {@link adopt}), or they fence themselves when their lease
   * is not renewed. Last, starts the pod watch and waits for its first list, so that
   * {@link adopt} knows every pod before the control plane hears its first heartbeat.
   */
  async preflight(): Promise<void> {
    const api = this.#api
    const list = await api.listPods(WORKER_SELECTOR)
    await checkAccess(api)
    for (const pod of list.items ?? []) {
      const name = pod.metadata?.name
      const phase = pod.status?.phase
      if (!name || (phase !== 'Succeeded' && phase !== 'Failed')) continue
      if (!pod.metadata?.deletionTimestamp) await api.deletePod(name, 0).catch(ignoreMissing)
      const finalizers = (pod.metadata?.finalizers ?? []).filter(
        (finalizer) => finalizer !== WORKER_FINALIZER,
      )
      await api.setPodFinalizers(name, finalizers).catch(ignoreMissing)
    }
    await this.#watch.start()
  }

  /**
   * In the background: creates the worker's Secret and Pod, then follows it. A failure (with
   * its code) is written to the tenant's log and ends the worker at once.
   */
  launch(spec: WorkerSpec): WorkerPod {
    const worker = new WorkerPod({
      api: this.#api,
      watch: this.#watch,
      objects: workerPodObjects(spec, this.#api.namespace, this.#template),
      logPath: spec.logPath,
      gracePeriodSeconds: this.#template.terminationGracePeriodSeconds,
      fenceMs: spec.settings.leaseTtlMs + FENCE_MARGIN_MS,
    })
    return this.#follow(worker)
  }

  #follow(worker: WorkerPod): WorkerPod {
    this.#workers.add(worker)
    void worker.exited.then(() => this.#workers.delete(worker))
    return worker
  }

  /**
   * Follows the pod a previous control plane created for the tenant's lease epoch, named
   * `litecell-<tenant>-<epoch>` (the pid a container reports is meaningless here): by the same
   * rules as a launched pod, and SIGKILL/SIGTERM delete it as they would. Synchronous, so the
   * pod must be known to the watch's list (started by {@link preflight}): a pod it does not
   * list does not exist, and a heartbeat naming one is refused rather than adopted
   * optimistically, since an adopted worker's heartbeats would go on renewing the lease of a
   * worker no pod stands for, and nothing could prove its end. (A heartbeat reaches this only
   * with the worker's secret, whose hash the registry kept for that epoch.) Undefined too
   * before the watch has listed (no {@link preflight}): the watch is started then, for the next
   * heartbeat; and for a pod this launcher follows already, or one already ended or deleted
   * unscheduled (no worker can be behind its heartbeat).
   */
  adopt(worker: AdoptedWorker): WorkerPod | undefined {
    const name = workerPodName(worker.tenantId, worker.epoch)
    if (!this.#watch.listed) {
      void this.#watch.start().catch(() => undefined)
      return undefined
    }
    const pod = this.#watch.current(name)
    if (!pod || pod.metadata?.labels?.['litecell.dev/tenant'] !== worker.tenantId) return undefined
    if ([...this.#workers].some((followed) => followed.podName === name)) return undefined
    const phase = pod.status?.phase
    if (phase === 'Succeeded' || phase === 'Failed') return undefined
    if (pod.status?.containerStatuses?.[0]?.state?.terminated) return undefined
    return this.#follow(
      new WorkerPod({
        api: this.#api,
        watch: this.#watch,
        objects: { adopt: name },
        logPath: worker.logPath,
        gracePeriodSeconds: this.#template.terminationGracePeriodSeconds,
        fenceMs: worker.leaseTtlMs + FENCE_MARGIN_MS,
      }),
    )
  }

  /** A pod's emptyDir dies with it: nothing of a tenant outlives its worker here. */
  hasLocalState(): boolean {
    return false
  }

  async removeLocalState(): Promise<void> {}

  /** Stops following pods still running (the fleet has hibernated the ones it could). */
  close(): void {
    for (const worker of this.#workers) worker.abandon()
    this.#workers.clear()
    void this.#watch.stop()
  }
}

function ignoreMissing(err: unknown): void {
  if ((err as KubernetesError).code !== 'K8S_NOT_FOUND') throw err
}
