import { appendFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { V1Pod } from '@kubernetes/client-node'
import type { WorkerExit, WorkerProcess } from '../launcher.js'
import type { KubernetesApi } from './kubernetes-api.js'
import type { KubernetesError } from './kubernetes-error.js'
import { WORKER_FINALIZER, type WorkerPodObjects } from './pod-manifest.js'
import type { PodWatch } from './pod-watch.js'

/** Most of a pod's log copied into the tenant's log file when it ends. */
const MAX_LOG_BYTES = 1024 * 1024
/** Pod waiting reasons worth telling the operator about while the fleet waits for the worker. */
const STUCK_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
])

/** Settings of one {@link WorkerPod}. */
export interface WorkerPodOptions {
  readonly api: KubernetesApi
  readonly watch: PodWatch
  /**
   * The Secret and Pod to create (a launch), or the name of a pod a previous control plane
   * created and this one adopts: nothing is created, the pod is followed from its current state.
   */
  readonly objects: WorkerPodObjects | { readonly adopt: string }
  /** The tenant's log file: launcher notes go there, and the pod's log once it ended. */
  readonly logPath: string
  /** Grace period of a SIGTERM delete: time to hibernate. */
  readonly gracePeriodSeconds: number
  /**
   * How long after a SIGKILL (or a pod vanishing unseen) the worker's lease has certainly run
   * out, so the worker has fenced itself: the lease TTL plus a margin.
   */
  readonly fenceMs: number
}

/**
 * One worker pod, from create to its exit: creates its Secret and Pod, follows the pod on the
 * launcher's {@link PodWatch}, and resolves `exited` only on evidence that the container has
 * stopped, so a successor's Litestream never overlaps this one's (ARCHITECTURE.md invariant
 * 1). The evidence is a terminated container status (kept readable by the pod's finalizer)
 * or, after a SIGKILL the kubelet never confirmed (a lost node), the lease having run out.
 * An adopted pod (a control-plane restart, issue 9 item 10) is followed by the same rules.
 */
export class WorkerPod implements WorkerProcess {
  /** Pods have no pid the control plane could use. */
  readonly pid = undefined
  readonly podName: string
  readonly exited: Promise<WorkerExit>
  readonly #options: WorkerPodOptions
  readonly #created: Promise<boolean>
  readonly #noted = new Set<string>()
  #error: (Error & { readonly code?: string }) | undefined
  #signal: 'SIGTERM' | 'SIGKILL' | null = null
  #settle!: (exit: WorkerExit) => void
  #settled = false
  #unsubscribe: () => void = () => undefined
  #fenceTimer: NodeJS.Timeout | undefined
  /** Log lines being appended: `exited` waits for them, so the log is complete by then. */
  #writes: Promise<void> = Promise.resolve()

  constructor(options: WorkerPodOptions) {
    this.#options = options
    const { objects } = options
    this.podName = 'adopt' in objects ? objects.adopt : objects.name
    const exit = new Promise<WorkerExit>((resolve) => (this.#settle = resolve))
    this.exited = exit.then(async (value) => {
      await this.#writes
      return value
    })
    this.#created = 'adopt' in objects ? Promise.resolve(true) : this.#create(objects)
    void this.#created.then((created) =>
      created ? this.#follow() : this.#finish({ code: null, signal: null }),
    )
  }

  /** Why the pod could not be created, if it could not (the exit is then a crash). */
  get error(): (Error & { readonly code?: string }) | undefined {
    return this.#error
  }

  /**
   * SIGTERM deletes the pod with the grace period: the kubelet sends SIGTERM and the worker
   * hibernates. SIGKILL deletes it with a grace period of 1 s, not 0: 0 is a force delete that
   * removes the object before the kubelet has stopped the container, and then nothing proves the
   * worker is gone. A SIGKILL the kubelet has not confirmed once the lease ran out (a lost
   * node) becomes a force delete then.
   */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    const hard = signal === 'SIGKILL'
    if (this.#signal === 'SIGKILL' || (this.#signal === 'SIGTERM' && !hard)) return
    this.#signal = hard ? 'SIGKILL' : 'SIGTERM'
    if (hard)
      this.#fenceTimer = setTimeout(() => void this.#forceAfterFence(), this.#options.fenceMs)
    const graceSeconds = hard ? 1 : this.#options.gracePeriodSeconds
    void this.#created.then((created) => (created ? this.#deletePod(graceSeconds) : undefined))
  }

  /** Stops following the pod (the control plane is going away); `exited` then never resolves. */
  abandon(): void {
    this.#settled = true
    this.#unsubscribe()
    clearTimeout(this.#fenceTimer)
  }

  async #create(objects: WorkerPodObjects): Promise<boolean> {
    const { api } = this.#options
    let secretCreated = false
    try {
      if (objects.secret) {
        await api.createSecret(objects.secret)
        secretCreated = true
      }
      const pod = await api.createPod(objects.pod).catch((err: unknown) => this.#createdAnyway(err))
      if (secretCreated) {
        // The Secret goes with its pod, even if this control plane dies first.
        const owner = { apiVersion: 'v1', kind: 'Pod', name: objects.name, uid: pod.metadata?.uid }
        await api.ownSecret(objects.name, owner).catch((err: unknown) => this.#note(err))
      }
      return true
    } catch (err) {
      this.#error = err as KubernetesError
      this.#note(err)
      if (secretCreated) await this.#deleteSecret()
      return false
    }
  }

  /**
   * A create that failed without an answer (a timeout, a dropped connection) may still have
   * created the pod, and its worker would then run unwatched beside a successor. Looks for
   * it until the lease could have run out; rethrows `err` only once it is known absent.
   */
  async #createdAnyway(err: unknown): Promise<V1Pod> {
    if ((err as KubernetesError).code !== 'K8S_UNAVAILABLE') throw err
    const { api, fenceMs } = this.#options
    const deadline = Date.now() + fenceMs
    for (;;) {
      try {
        return await api.readPod(this.podName)
      } catch (lookup) {
        if ((lookup as KubernetesError).code === 'K8S_NOT_FOUND' || Date.now() > deadline) throw err
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000))
    }
  }

  async #follow(): Promise<void> {
    const { watch } = this.#options
    this.#unsubscribe = watch.subscribe(this.podName, (pod) => void this.#observe(pod))
    await watch.start().catch((err: unknown) => this.#note(err))
    // Whatever the watch saw before this worker listened (a pod that ended at once, or the
    // adopted pod's state as listed).
    // An adopted pod the list does not know is gone: the vanished-pod rule below.
    const pod = watch.current(this.podName)
    if (pod || 'adopt' in this.#options.objects) await this.#observe(pod)
  }

  /** Decides, from the pod's latest state, whether the worker has exited. */
  async #observe(pod: V1Pod | undefined): Promise<void> {
    if (this.#settled) return
    const { fenceMs } = this.#options
    const name = this.podName
    if (!pod) {
      // Gone despite the finalizer (removed by hand): nothing says the container stopped.
      this.#settled = true
      this.#note(
        `pod ${name} vanished without a final status; waiting ${fenceMs} ms for its lease to run out`,
      )
      await new Promise((resolve) => setTimeout(resolve, fenceMs))
      await this.#deleteSecret()
      return this.#finish({ code: null, signal: 'SIGKILL' })
    }
    const container = pod.status?.containerStatuses?.[0]?.state
    const phase = pod.status?.phase
    if (container?.terminated || phase === 'Succeeded' || phase === 'Failed') {
      this.#settled = true
      await this.#copyLog()
      await this.#remove(pod)
      const code = container?.terminated?.exitCode
      return this.#finish(
        code === undefined ? { code: null, signal: 'SIGKILL' } : { code, signal: null },
      )
    }
    if (pod.metadata?.deletionTimestamp && !pod.spec?.nodeName) {
      // Deleted before it was scheduled: no container ever ran.
      this.#settled = true
      await this.#remove(pod)
      return this.#finish({ code: null, signal: 'SIGKILL' })
    }
    const waiting = container?.waiting
    if (waiting?.reason && STUCK_REASONS.has(waiting.reason)) {
      this.#note(`pod ${name} is waiting: ${waiting.reason}: ${waiting.message ?? ''}`)
    }
  }

  /** A SIGKILL not confirmed within the lease (a lost node): the worker has fenced itself. */
  async #forceAfterFence(): Promise<void> {
    if (this.#settled) return
    this.#settled = true
    const { fenceMs, watch } = this.#options
    this.#note(
      `pod ${this.podName} not stopped ${fenceMs} ms after SIGKILL (node lost?); its lease has run out: force-deleting it`,
    )
    await this.#deletePod(0)
    await this.#remove(watch.current(this.podName))
    this.#finish({ code: null, signal: 'SIGKILL' })
  }

  #finish(exit: WorkerExit): void {
    this.#unsubscribe()
    clearTimeout(this.#fenceTimer)
    this.#settle(exit)
  }

  async #deletePod(graceSeconds: number): Promise<void> {
    await this.#options.api.deletePod(this.podName, graceSeconds).catch((err: unknown) => {
      if ((err as KubernetesError).code !== 'K8S_NOT_FOUND') this.#note(err)
    })
  }

  /** Deletes the ended pod, releases its finalizer (the object then goes) and its Secret. */
  async #remove(pod: V1Pod | undefined): Promise<void> {
    if (!pod?.metadata?.deletionTimestamp) await this.#deletePod(0)
    const finalizers = (pod?.metadata?.finalizers ?? []).filter((name) => name !== WORKER_FINALIZER)
    await this.#options.api.setPodFinalizers(this.podName, finalizers).catch((err: unknown) => {
      if ((err as KubernetesError).code !== 'K8S_NOT_FOUND') this.#note(err)
    })
    await this.#deleteSecret()
  }

  /** Deletes the pod's Secret: the one it created, or whichever an adopted pod may have. */
  async #deleteSecret(): Promise<void> {
    const { objects } = this.#options
    if ('name' in objects && !objects.secret) return
    await this.#options.api.deleteSecret(this.podName).catch((err: unknown) => {
      if ((err as KubernetesError).code !== 'K8S_NOT_FOUND') this.#note(err)
    })
  }

  /** Appends the pod's log to the tenant's log file, where the fleet's errors point. */
  async #copyLog(): Promise<void> {
    const text = await this.#options.api
      .readPodLog(this.podName, MAX_LOG_BYTES)
      .catch((err: unknown) => {
        this.#note(err)
        return ''
      })
    if (text) this.#append(text.endsWith('\n') ? text : `${text}\n`)
  }

  /** A launcher line in the tenant's log (once per distinct text): the operator's trail. */
  #note(what: unknown, level = 50): void {
    const msg = what instanceof Error ? what.message : String(what)
    if (this.#noted.has(msg)) return
    this.#noted.add(msg)
    const code = (what as { code?: unknown }).code
    const line = JSON.stringify({
      level,
      time: Date.now(),
      component: 'kubernetes-launcher',
      pod: this.podName,
      code,
      msg,
    })
    this.#append(`${line}\n`)
  }

  #append(text: string): void {
    const path = this.#options.logPath
    this.#writes = this.#writes.then(async () => {
      await mkdir(dirname(path), { recursive: true }).catch(() => undefined)
      await appendFile(path, text).catch(() => undefined)
    })
  }
}
