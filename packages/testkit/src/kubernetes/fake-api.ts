/**
 * A FAKE of the Kubernetes API server, because no Kubernetes cluster runs on this machine
 * (STYLE.md rule 16 allows a fake only for such an external service). It answers what the
 * official `@kubernetes/client-node` sends for the launcher's calls, with the semantics the
 * launcher relies on: Status errors (401/403/404/409), resource versions, lists and watches
 * (a list's resourceVersion, then a stream of ADDED/MODIFIED/DELETED events from that version),
 * graceful deletion (the object removed once the container stopped), force deletion
 * (gracePeriodSeconds 0), finalizers, merge patches, owner-reference garbage collection of
 * Secrets, pod logs and SelfSubjectAccessReviews. Its kubelet (fake-kubelet.ts) runs
 * containers as real local processes. Over 300 lines on purpose: it is test support, and
 * one route table for the resources the launcher touches reads as the API surface it fakes.
 */
import type { ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { FakeKubelet, killGroup, type FakePod, type Json } from './fake-kubelet.js'

/** One call the fake answered, for assertions. */
export interface FakeCall {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly status: number
}

/** One pod change, as a watch streams it. */
interface PodEvent {
  readonly version: number
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'
  readonly object: Json
}

const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|secrets)(?:\/([^/]+))?(?:\/(log))?$/

/** A fake Kubernetes API on loopback (HTTPS when given a key and certificate). */
export class FakeKubernetesApi {
  readonly url: string
  readonly namespace: string
  readonly calls: FakeCall[] = []
  readonly pods = new Map<string, FakePod>()
  readonly secrets = new Map<string, Json>()
  /** `verb resource` pairs RBAC refuses, e.g. `create pods`, `watch pods`. */
  readonly forbidden = new Set<string>()
  /** `verb resource` pairs done but whose answer is lost (the connection drops), once each. */
  readonly unanswered = new Set<string>()
  /** Containers of pods force-deleted on a lost node: still running, killed at stop. */
  readonly orphans: ChildProcess[] = []
  readonly #kubelet = new FakeKubelet()
  readonly #server: Server
  readonly #token: string
  readonly #events: PodEvent[] = []
  readonly #watchers = new Set<(event: PodEvent) => void>()
  readonly #watchResponses = new Set<ServerResponse>()
  #version = 0

  private constructor(server: Server, url: string, namespace: string, token: string) {
    this.#server = server
    this.url = url
    this.namespace = namespace
    this.#token = token
  }

  static async start(options: {
    namespace: string
    token: string
    tls?: { key: string; cert: string }
  }): Promise<FakeKubernetesApi> {
    let fake!: FakeKubernetesApi
    const handler = (req: IncomingMessage, res: ServerResponse) => void fake.#handle(req, res)
    const server = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler)
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    const { port } = server.address() as AddressInfo
    const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`
    fake = new FakeKubernetesApi(server, url, options.namespace, options.token)
    return fake
  }

  /** While true the kubelet does nothing (a lost node): no signals, no status. */
  get nodeLost(): boolean {
    return this.#kubelet.lost
  }

  set nodeLost(lost: boolean) {
    this.#kubelet.lost = lost
  }

  /** Open watch connections right now. */
  get watchers(): number {
    return this.#watchers.size
  }

  /** Drops every open watch connection (a restarted API server, a flaky network). */
  dropWatches(): void {
    for (const res of this.#watchResponses) res.socket?.destroy()
  }

  /** Kills every container still running and stops serving. */
  async stop(): Promise<void> {
    for (const pod of this.pods.values()) {
      killGroup(pod.child, 'SIGKILL')
      rmSync(pod.dir, { recursive: true, force: true })
    }
    for (const child of this.orphans) killGroup(child, 'SIGKILL')
    this.#server.closeAllConnections?.()
    await new Promise<void>((done) => this.#server.close(() => done()))
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    let lose = false
    const reply = (status: number, body: Json | string) => {
      if (lose) return void res.socket?.destroy()
      this.calls.push({
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        status,
      })
      res.writeHead(status, {
        'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
      })
      res.end(typeof body === 'string' ? body : JSON.stringify(body))
    }
    const fail = (status: number, reason: string, message: string) =>
      reply(status, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message,
        reason,
        code: status,
      })
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json) : {}

    if (req.headers.authorization !== `Bearer ${this.#token}`)
      return fail(401, 'Unauthorized', 'Unauthorized')
    if (url.pathname === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
      const { verb, resource, subresource } = body.spec?.resourceAttributes ?? {}
      const permission = `${verb} ${resource}${subresource ? `/${subresource}` : ''}`
      return reply(201, { ...body, status: { allowed: !this.forbidden.has(permission) } })
    }
    const match = POD_PATH.exec(url.pathname)
    if (!match) return fail(404, 'NotFound', 'the server could not find the requested resource')
    const [, namespace, resource, name, sub] = match as unknown as [
      string,
      string,
      'pods' | 'secrets',
      string?,
      string?,
    ]
    const isWatch = url.searchParams.get('watch') === 'true'
    const verb = isWatch
      ? 'watch'
      : ({ GET: name ? 'get' : 'list', POST: 'create', DELETE: 'delete', PATCH: 'patch' }[
          req.method ?? ''
        ] ?? 'unknown')
    lose = this.unanswered.delete(`${verb} ${resource}`)
    if (this.forbidden.has(`${verb} ${resource}`)) {
      return fail(
        403,
        'Forbidden',
        `${resource} is forbidden: User "system:serviceaccount:${namespace}:litecell-control-plane" cannot ${verb} resource "${resource}" in API group "" in the namespace "${namespace}"`,
      )
    }
    if (namespace !== this.namespace)
      return fail(404, 'NotFound', `namespaces "${namespace}" not found`)
    const selector = (url.searchParams.get('labelSelector') ?? '')
      .split(',')
      .filter(Boolean)
      .map((t) => t.split('='))
    const selected = (object: Json) =>
      selector.every(([key, value]) => object.metadata?.labels?.[key!] === value)
    if (isWatch && resource === 'pods')
      return this.#watch(res, selected, Number(url.searchParams.get('resourceVersion') ?? 0))
    const store = resource === 'pods' ? this.pods : this.secrets
    if (req.method === 'POST' && !name) {
      const objectName = body.metadata?.name as string
      if (store.has(objectName))
        return fail(409, 'AlreadyExists', `${resource} "${objectName}" already exists`)
      const object = {
        ...body,
        metadata: {
          ...body.metadata,
          namespace,
          uid: randomUUID(),
          creationTimestamp: new Date().toISOString(),
        },
      }
      if (resource === 'secrets') this.secrets.set(objectName, object)
      else {
        this.pods.set(
          objectName,
          this.#kubelet.run(object, this.secrets, (stopped) =>
            this.#podChanged(objectName, stopped),
          ),
        )
        this.#emit('ADDED', object)
      }
      return reply(201, object)
    }
    if (req.method === 'GET' && !name) {
      const items = [...store.values()]
        .map((entry) => ('object' in entry ? (entry as FakePod).object : entry))
        .filter(selected)
      const kind = resource === 'pods' ? 'PodList' : 'SecretList'
      return reply(200, {
        kind,
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.#version) },
        items,
      })
    }
    const entry = name ? store.get(name) : undefined
    if (!name || !entry) return fail(404, 'NotFound', `${resource} "${name}" not found`)
    const object = resource === 'pods' ? (entry as FakePod).object : (entry as Json)
    if (req.method === 'GET' && sub === 'log') return reply(200, (entry as FakePod).log)
    if (req.method === 'GET') return reply(200, object)
    if (req.method === 'PATCH') {
      if (!String(req.headers['content-type']).startsWith('application/merge-patch+json')) {
        return fail(415, 'UnsupportedMediaType', 'use merge patch')
      }
      Object.assign(object.metadata, body.metadata ?? {})
      if (resource === 'pods') this.#podChanged(name, false)
      return reply(200, object)
    }
    if (req.method === 'DELETE') {
      if (resource === 'secrets') this.secrets.delete(name)
      else this.#delete(name, url.searchParams.get('gracePeriodSeconds'))
      return reply(200, object)
    }
    return fail(405, 'MethodNotAllowed', 'method not allowed')
  }

  /** Streams the pod events after `sinceVersion`, then every new one, until the client goes. */
  #watch(res: ServerResponse, selected: (object: Json) => boolean, sinceVersion: number): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
    // As an API server does: the client's watch starts (its informer's start resolves) on the
    // response headers, which Node would otherwise hold back until the first event.
    res.flushHeaders()
    const send = (event: PodEvent) => {
      if (selected(event.object))
        res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`)
    }
    for (const event of this.#events) if (event.version > sinceVersion) send(event)
    this.#watchers.add(send)
    this.#watchResponses.add(res)
    res.on('close', () => {
      this.#watchers.delete(send)
      this.#watchResponses.delete(res)
    })
  }

  /** Records a pod change under a new resource version and streams it to the watchers. */
  #emit(type: PodEvent['type'], object: Json): void {
    this.#version += 1
    object.metadata.resourceVersion = String(this.#version)
    const event: PodEvent = { version: this.#version, type, object: structuredClone(object) }
    this.#events.push(event)
    for (const watcher of this.#watchers) watcher(event)
  }

  /** The kubelet or a patch changed the pod: a new version, and maybe its removal. */
  #podChanged(name: string, _stopped: boolean): void {
    const pod = this.pods.get(name)
    if (!pod) return
    this.#emit('MODIFIED', pod.object)
    this.#maybeRemove(name)
  }

  #delete(name: string, graceParam: string | null): void {
    const pod = this.pods.get(name)!
    const { object } = pod
    const terminal = object.status.phase === 'Succeeded' || object.status.phase === 'Failed'
    let grace =
      graceParam === null ? (object.spec.terminationGracePeriodSeconds ?? 30) : Number(graceParam)
    if (terminal || !pod.child) grace = 0
    const deletionGrace = object.metadata.deletionGracePeriodSeconds
    if (deletionGrace !== undefined && deletionGrace <= grace) return
    object.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString()
    object.metadata.deletionGracePeriodSeconds = grace
    this.#emit('MODIFIED', object)
    this.#kubelet.stop(pod, grace)
    this.#maybeRemove(name)
  }

  /** Removes a deleted pod once it has no finalizers and (unless forced) its container stopped. */
  #maybeRemove(name: string): void {
    const pod = this.pods.get(name)
    if (
      !pod ||
      !pod.object.metadata.deletionTimestamp ||
      (pod.object.metadata.finalizers ?? []).length > 0
    )
      return
    const stopped = !pod.child || pod.child.exitCode !== null || pod.child.signalCode !== null
    if (!stopped && pod.object.metadata.deletionGracePeriodSeconds !== 0) return
    this.pods.delete(name)
    this.#emit('DELETED', pod.object)
    if (!stopped && pod.child) this.orphans.push(pod.child)
    rmSync(pod.dir, { recursive: true, force: true })
    // Garbage collection: Secrets owned by the pod go with it.
    for (const [secretName, secret] of this.secrets) {
      const owners = (secret.metadata.ownerReferences ?? []) as Json[]
      if (owners.some((owner) => owner.uid === pod.object.metadata.uid))
        this.secrets.delete(secretName)
    }
  }
}
