import { makeInformer, type Informer, type KubeConfig, type V1Pod } from '@kubernetes/client-node'
import type { KubernetesApi } from './kubernetes-api.js'

/** Pause before a watch that failed (API unreachable, token refused) is started again. */
export const WATCH_RETRY_MS = 1_000

/** Called with a pod's latest state, or `undefined` once the pod object is gone. */
export type PodListener = (pod: V1Pod | undefined) => void

/**
 * One watch over every worker pod of the launcher (list, then watch from its resource
 * version; again after a disconnect, with the pods that vanished meanwhile reported gone):
 * the official client's informer. Each worker listens to its own pod by name, so an exit is
 * seen as soon as the kubelet reports it, with no request per pod.
 */
export class PodWatch {
  readonly #informer: Informer<V1Pod> & { get(name: string, namespace?: string): V1Pod | undefined }
  readonly #namespace: string
  readonly #listeners = new Map<string, Set<PodListener>>()
  #started: Promise<void> | undefined
  #retry: NodeJS.Timeout | undefined
  #stopped = false
  #listed = false

  constructor(config: KubeConfig, api: KubernetesApi, labelSelector: string) {
    this.#namespace = api.namespace
    this.#informer = makeInformer<V1Pod>(
      config,
      api.podsPath,
      () => api.listPods(labelSelector),
      labelSelector,
    )
    this.#informer.on('add', (pod) => this.#notify(pod.metadata?.name, pod))
    this.#informer.on('update', (pod) => this.#notify(pod.metadata?.name, pod))
    this.#informer.on('delete', (pod) => this.#notify(pod.metadata?.name, undefined))
    this.#informer.on('error', () => {
      if (this.#stopped) return
      clearTimeout(this.#retry)
      this.#retry = setTimeout(
        () => void this.#informer.start().catch(() => undefined),
        WATCH_RETRY_MS,
      )
    })
  }

  /** Starts watching (once); resolves after the first list. */
  start(): Promise<void> {
    this.#started ??= this.#informer.start().then(() => {
      this.#listed = true
    })
    return this.#started
  }

  /** Whether the first list is in: from then on, a pod {@link current} does not know does not exist. */
  get listed(): boolean {
    return this.#listed
  }

  /** The pod as last seen, if the watch knows it. */
  current(name: string): V1Pod | undefined {
    return this.#informer.get(name, this.#namespace)
  }

  /** Calls `listener` on every change of pod `name`; returns the unsubscribe. */
  subscribe(name: string, listener: PodListener): () => void {
    const listeners = this.#listeners.get(name) ?? new Set()
    listeners.add(listener)
    this.#listeners.set(name, listeners)
    return () => {
      listeners.delete(listener)
      if (listeners.size === 0) this.#listeners.delete(name)
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#retry)
    await this.#informer.stop()
  }

  #notify(name: string | undefined, pod: V1Pod | undefined): void {
    for (const listener of this.#listeners.get(name ?? '') ?? []) listener(pod)
  }
}
