import { appendFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { KubernetesClient } from './kubernetes-client.js'
import { KubernetesError } from './kubernetes-error.js'
import { WORKER_FINALIZER, type WorkerPodObjects } from './kubernetes-pod-manifest.js'
import type { WorkerExit, WorkerProcess } from './launcher.js'

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

/** The parts of a Pod object the launcher reads. */
interface PodView {
  metadata?: { uid?: string; deletionTimestamp?: string; finalizers?: string[] }
  spec?: { nodeName?: string }
  status?: {
    phase?: string
    containerStatuses?: {
      state?: {
        terminated?: { exitCode?: number }
        waiting?: { reason?: string; message?: string }
      }
    }[]
  }
}

/** Settings of one {@link KubernetesWorker}. */
export interface KubernetesWorkerOptions {
  readonly client: KubernetesClient
  readonly objects: WorkerPodObjects
  /** The tenant's log file: launcher notes go there, and the pod's log once it ended. */
  readonly logPath: string
  readonly pollMs: number
  /** Grace period of a SIGTERM delete: time to hibernate. */
  readonly gracePeriodSeconds: number
  /**
   * How long after a SIGKILL (or a pod vanishing unseen) the worker's lease has certainly run
   * out, so the worker has fenced itself: the lease TTL plus a margin.
   */
  readonly fenceMs: number
}

/**
 * One worker pod, from create to its exit: creates its Secret and Pod, polls the pod once per
 * `pollMs` (a GET per live worker per second is cheap, and unlike a watch needs no reconnect
 * or resourceVersion bookkeeping; an exit is seen within a second) and resolves `exited` only
 * on evidence that the container has stopped, so a successor's Litestream never overlaps this
 * one's (ARCHITECTURE.md invariant 1). The evidence is a terminated container status (kept
 * readable by the pod's finalizer) or, after a SIGKILL the kubelet never confirmed (a lost
 * node), the lease having run out.
 */
export class KubernetesWorker implements WorkerProcess {
  /** Pods have no pid the control plane could use. */
  readonly pid = undefined
  readonly podName: string
  readonly exited: Promise<WorkerExit>
  readonly #options: KubernetesWorkerOptions
  readonly #created: Promise<boolean>
  readonly #noted = new Set<string>()
  #error: (Error & { readonly code?: string }) | undefined
  #signal: 'SIGTERM' | 'SIGKILL' | null = null
  #killedAtMs = 0
  #abandoned = false
  /** Log lines being appended: `exited` waits for them, so the log is complete by then. */
  #writes: Promise<void> = Promise.resolve()

  constructor(options: KubernetesWorkerOptions) {
    this.#options = options
    this.podName = options.objects.name
    this.#created = this.#create()
    this.exited = this.#watch().then(async (exit) => {
      await this.#writes
      return exit
    })
  }

  /**
   * Why the pod could not be created, if it could not (the exit is then a crash): a
   * {@link KubernetesError}.
   */
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
    if (hard) this.#killedAtMs = Date.now()
    const graceSeconds = hard ? 1 : this.#options.gracePeriodSeconds
    void this.#created.then((created) => (created ? this.#deletePod(graceSeconds) : undefined))
  }

  /** Stops polling (the control plane is going away); `exited` then never resolves. */
  abandon(): void {
    this.#abandoned = true
  }

  async #create(): Promise<boolean> {
    const { client, objects } = this.#options
    let secretCreated = false
    try {
      if (objects.secret) {
        await client.json(
          'POST',
          client.path('secrets'),
          `create secret ${objects.name}`,
          objects.secret,
        )
        secretCreated = true
      }
      const pod = await client
        .json<PodView>('POST', client.path('pods'), `create pod ${objects.name}`, objects.pod)
        .catch((err: unknown) => this.#createdAnyway(err))
      if (secretCreated) {
        // The Secret goes with its pod, even if this control plane dies first.
        const owner = { apiVersion: 'v1', kind: 'Pod', name: objects.name, uid: pod.metadata?.uid }
        await client
          .json(
            'PATCH',
            client.path('secrets', objects.name),
            `own secret ${objects.name}`,
            { metadata: { ownerReferences: [owner] } },
            MERGE_PATCH,
          )
          .catch((err: unknown) => this.#note(err))
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
  async #createdAnyway(err: unknown): Promise<PodView> {
    if ((err as KubernetesError).code !== 'K8S_UNAVAILABLE') throw err
    const { client, objects, fenceMs } = this.#options
    const deadline = Date.now() + fenceMs
    for (;;) {
      try {
        return await client.json<PodView>(
          'GET',
          client.path('pods', objects.name),
          `get pod ${objects.name}`,
        )
      } catch (lookup) {
        if ((lookup as KubernetesError).code === 'K8S_NOT_FOUND' || Date.now() > deadline) throw err
      }
      await delay(1_000)
    }
  }

  async #watch(): Promise<WorkerExit> {
    const { client, objects, pollMs, fenceMs } = this.#options
    if (!(await this.#created)) return { code: null, signal: null }
    for (;;) {
      await delay(pollMs)
      if (this.#abandoned) return new Promise<never>(() => undefined)
      let pod: PodView
      try {
        pod = await client.json<PodView>(
          'GET',
          client.path('pods', objects.name),
          `get pod ${objects.name}`,
        )
      } catch (err) {
        if ((err as KubernetesError).code !== 'K8S_NOT_FOUND') {
          this.#note(err)
          continue
        }
        // Gone despite the finalizer (removed by hand): nothing says the container stopped.
        this.#note(
          `pod ${objects.name} vanished without a final status; waiting ${fenceMs} ms for its lease to run out`,
        )
        await delay(fenceMs)
        await this.#deleteSecret()
        return { code: null, signal: 'SIGKILL' }
      }
      const container = pod.status?.containerStatuses?.[0]?.state
      const phase = pod.status?.phase
      if (container?.terminated || phase === 'Succeeded' || phase === 'Failed') {
        await this.#copyLog()
        await this.#remove(pod)
        const code = container?.terminated?.exitCode
        return code === undefined ? { code: null, signal: 'SIGKILL' } : { code, signal: null }
      }
      if (pod.metadata?.deletionTimestamp && !pod.spec?.nodeName) {
        // Deleted before it was scheduled: no container ever ran.
        await this.#remove(pod)
        return { code: null, signal: 'SIGKILL' }
      }
      const waiting = container?.waiting
      if (waiting?.reason && STUCK_REASONS.has(waiting.reason)) {
        this.#note(`pod ${objects.name} is waiting: ${waiting.reason}: ${waiting.message ?? ''}`)
      }
      if (this.#signal === 'SIGKILL' && Date.now() - this.#killedAtMs >= fenceMs) {
        this.#note(
          `pod ${objects.name} not stopped ${fenceMs} ms after SIGKILL (node lost?); its lease has run out: force-deleting it`,
        )
        await this.#deletePod(0)
        await this.#remove(pod)
        return { code: null, signal: 'SIGKILL' }
      }
    }
  }

  async #deletePod(graceSeconds: number): Promise<void> {
    const { client, objects } = this.#options
    const path = `${client.path('pods', objects.name)}?gracePeriodSeconds=${graceSeconds}`
    await client.json('DELETE', path, `delete pod ${objects.name}`).catch((err: unknown) => {
      if ((err as KubernetesError).code !== 'K8S_NOT_FOUND') this.#note(err)
    })
  }

  /** Deletes the ended pod, releases its finalizer (the object then goes) and its Secret. */
  async #remove(pod: PodView): Promise<void> {
    const { client, objects } = this.#options
    if (!pod.metadata?.deletionTimestamp) await this.#deletePod(0)
    const finalizers = (pod.metadata?.finalizers ?? []).filter((name) => name !== WORKER_FINALIZER)
    await client
      .json(
        'PATCH',
        client.path('pods', objects.name),
        `release pod ${objects.name}`,
        { metadata: { finalizers } },
        MERGE_PATCH,
      )
      .catch((err: unknown) => {
        if ((err as KubernetesError).code !== 'K8S_NOT_FOUND') this.#note(err)
      })
    await this.#deleteSecret()
  }

  async #deleteSecret(): Promise<void> {
    const { client, objects } = this.#options
    if (!objects.secret) return
    await client
      .json('DELETE', client.path('secrets', objects.name), `delete secret ${objects.name}`)
      .catch((err: unknown) => {
        if ((err as KubernetesError).code !== 'K8S_NOT_FOUND') this.#note(err)
      })
  }

  /** Appends the pod's log to the tenant's log file, where the fleet's errors point. */
  async #copyLog(): Promise<void> {
    const { client, objects, logPath } = this.#options
    const path = `${client.path('pods', objects.name, 'log')}?limitBytes=${MAX_LOG_BYTES}`
    const text = await client
      .text('GET', path, `read log of pod ${objects.name}`)
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

const MERGE_PATCH = 'application/merge-patch+json'

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
