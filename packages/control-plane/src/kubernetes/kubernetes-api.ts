import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node'
import { HINTS, KubernetesError, codeForStatus } from './kubernetes-error.js'

/** Longest one API call may take. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000

/** How to reach the Kubernetes API without a kubeconfig (tests, or a token file of one's own). */
export interface KubernetesConnection {
  /** `https://host:port` of the API server. */
  readonly apiUrl: string
  /** Bearer token (a service account's). */
  readonly token: string
  /** PEM CA bundle that signed the API server's certificate; absent: the system CAs. */
  readonly ca?: string
  /** Namespace the workers' pods live in. */
  readonly namespace: string
}

/**
 * The Kubernetes settings the control plane runs with: inside a pod, the pod's own service
 * account (in-cluster config); outside, the user's kubeconfig (`KUBECONFIG`, else
 * `~/.kube/config`) and its current context; or an explicit {@link KubernetesConnection}.
 * The namespace is `namespace`, else the context's (the pod's, in cluster), else `default`.
 * Throws `K8S_CONFIG` when there is no usable cluster.
 */
export function loadKubeConfig(
  options: {
    connection?: KubernetesConnection
    namespace?: string
    /** Where the service-account files are mounted, below `/`. @default '' (tests mount elsewhere) */
    inClusterRoot?: string
  } = {},
  env: NodeJS.ProcessEnv = process.env,
): { config: KubeConfig; namespace: string } {
  const config = new KubeConfig()
  const { connection } = options
  try {
    if (connection) {
      config.loadFromClusterAndUser(
        {
          name: 'litecell',
          server: connection.apiUrl,
          skipTLSVerify: false,
          ...(connection.ca ? { caData: Buffer.from(connection.ca).toString('base64') } : {}),
        },
        { name: 'litecell', token: connection.token },
      )
    } else if (env.KUBERNETES_SERVICE_HOST) {
      config.loadFromCluster(options.inClusterRoot)
    } else {
      config.loadFromDefault()
    }
  } catch (err) {
    throw new KubernetesError(
      'K8S_CONFIG',
      `load Kubernetes config: ${(err as Error).message}; ${HINTS.K8S_CONFIG}`,
      {
        cause: err,
      },
    )
  }
  const server = config.getCurrentCluster()?.server
  if (
    !connection &&
    config.getCurrentContext() === 'loaded-context' &&
    server === 'http://localhost:8080'
  ) {
    // The client's last resort when it found nothing: say what is missing instead.
    throw new KubernetesError(
      'K8S_CONFIG',
      `not running in a pod (KUBERNETES_SERVICE_HOST unset) and no kubeconfig (KUBECONFIG or ~/.kube/config); ${HINTS.K8S_CONFIG}`,
    )
  }
  if (!server || !/^https?:\/\//.test(server)) {
    throw new KubernetesError(
      'K8S_CONFIG',
      `no Kubernetes API server in the ${connection ? 'connection' : 'kubeconfig'} (got \`${server ?? ''}\`); ${HINTS.K8S_CONFIG}`,
    )
  }
  const context = config.getContextObject(config.getCurrentContext())
  const namespace = (
    options.namespace ||
    connection?.namespace ||
    context?.namespace ||
    'default'
  ).trim()
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    throw new TypeError(`Expected \`namespace\` to be a namespace name, got \`${namespace}\``)
  }
  return { config, namespace }
}

/**
 * The calls the launcher makes, through the official `@kubernetes/client-node` in one
 * namespace. Every failure becomes a {@link KubernetesError} whose message says what was being
 * done and what to check, and never holds the token.
 */
export class KubernetesApi {
  readonly namespace: string
  readonly config: KubeConfig
  readonly #core: CoreV1Api
  readonly #authorization: AuthorizationV1Api
  readonly #timeoutMs: number

  constructor(
    loaded: { config: KubeConfig; namespace: string },
    options: { timeoutMs?: number } = {},
  ) {
    this.config = loaded.config
    this.namespace = loaded.namespace
    this.#core = loaded.config.makeApiClient(CoreV1Api)
    this.#authorization = loaded.config.makeApiClient(AuthorizationV1Api)
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  }

  /** The URL path of the namespace's pods, for a watch. */
  get podsPath(): string {
    return `/api/v1/namespaces/${this.namespace}/pods`
  }

  listPods(labelSelector: string) {
    const { namespace } = this
    return this.#call(`list pods in namespace ${namespace}`, () =>
      this.#core.listNamespacedPod({ namespace, labelSelector }),
    )
  }

  createPod(pod: V1Pod): Promise<V1Pod> {
    const { namespace } = this
    return this.#call(`create pod ${pod.metadata?.name}`, () =>
      this.#core.createNamespacedPod({ namespace, body: pod }),
    )
  }

  readPod(name: string): Promise<V1Pod> {
    const { namespace } = this
    return this.#call(`get pod ${name}`, () => this.#core.readNamespacedPod({ name, namespace }))
  }

  async deletePod(name: string, gracePeriodSeconds: number): Promise<void> {
    const { namespace } = this
    await this.#call(`delete pod ${name}`, () =>
      this.#core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds }),
    )
  }

  /** Sets the pod's finalizers (a merge patch). */
  async setPodFinalizers(name: string, finalizers: string[]): Promise<void> {
    const { namespace } = this
    await this.#call(`release pod ${name}`, () =>
      this.#core.patchNamespacedPod(
        { name, namespace, body: { metadata: { finalizers } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    )
  }

  readPodLog(name: string, limitBytes: number): Promise<string> {
    const { namespace } = this
    return this.#call(`read log of pod ${name}`, () =>
      this.#core.readNamespacedPodLog({ name, namespace, limitBytes }),
    )
  }

  async createSecret(secret: Record<string, unknown>): Promise<void> {
    const { namespace } = this
    const name = (secret.metadata as { name?: string } | undefined)?.name
    await this.#call(`create secret ${name}`, () =>
      this.#core.createNamespacedSecret({ namespace, body: secret }),
    )
  }

  /** Makes the secret owned by `owner`, so it goes with its pod. */
  async ownSecret(name: string, owner: Record<string, unknown>): Promise<void> {
    const { namespace } = this
    await this.#call(`own secret ${name}`, () =>
      this.#core.patchNamespacedSecret(
        { name, namespace, body: { metadata: { ownerReferences: [owner] } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    )
  }

  async deleteSecret(name: string): Promise<void> {
    const { namespace } = this
    await this.#call(`delete secret ${name}`, () =>
      this.#core.deleteNamespacedSecret({ name, namespace }),
    )
  }

  /** Whether this account may do `verb` on `resource` (`pods/log`) in the namespace. */
  async mayDo(verb: string, target: string): Promise<boolean> {
    const [resource, subresource] = target.split('/')
    const review = await this.#call(`check permission to ${verb} ${target}`, () =>
      this.#authorization.createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              namespace: this.namespace,
              verb,
              ...(resource ? { resource } : {}),
              ...(subresource ? { subresource } : {}),
            },
          },
        },
      }),
    )
    return review.status?.allowed === true
  }

  async #call<T>(doing: string, request: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      )
    })
    try {
      return await Promise.race([request(), timedOut])
    } catch (err) {
      throw kubernetesErrorOf(err, doing, this.config.getCurrentCluster()?.server ?? '')
    } finally {
      clearTimeout(timer)
    }
  }
}

/** An official-client failure as a {@link KubernetesError}: by status, or K8S_UNAVAILABLE. */
export function kubernetesErrorOf(err: unknown, doing: string, server: string): KubernetesError {
  if (err instanceof KubernetesError) return err
  if (err instanceof ApiException) {
    const code = codeForStatus(err.code)
    return new KubernetesError(
      code,
      `${doing}: ${err.code} ${statusMessage(err.body)}; ${HINTS[code]}`,
      {
        status: err.code,
      },
    )
  }
  const reason = (err as Error).message ?? String(err)
  return new KubernetesError(
    'K8S_UNAVAILABLE',
    `${doing}: ${reason}; ${HINTS.K8S_UNAVAILABLE} (${new URL(server || 'http://unknown').origin})`,
    { cause: err },
  )
}

/** The `message` of a Kubernetes `Status` answer, or the start of another body. */
function statusMessage(body: unknown): string {
  let status = body
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body)
    } catch {
      return body.slice(0, 200)
    }
  }
  const { message, reason } = (status ?? {}) as { message?: unknown; reason?: unknown }
  if (typeof message === 'string') return message
  if (typeof reason === 'string') return reason
  return JSON.stringify(body)?.slice(0, 200) ?? ''
}
