import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import { HINTS, KubernetesError, codeForStatus } from './kubernetes-error.js'

/** Where Kubernetes mounts a pod's service-account token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'
/** Longest one API call may take. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
/** Largest API answer read (a pod's log is capped by `limitBytes` below this). */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024

/** How to reach the Kubernetes API. */
export interface KubernetesConnection {
  /** Base URL of the API server, e.g. `https://10.0.0.1:443`. */
  readonly apiUrl: string
  /** Bearer token (a service-account token); never logged, never in a message. */
  readonly token: string
  /** PEM CA bundle that signed the API server's certificate; absent: the system CAs. */
  readonly ca?: string
  /** Namespace the workers' pods live in. */
  readonly namespace: string
}

/**
 * The connection of a pod's own service account: the API at KUBERNETES_SERVICE_HOST/PORT, the
 * token, CA and namespace mounted under {@link SERVICE_ACCOUNT_DIR}. `namespace` overrides the
 * mounted one. Throws `K8S_CONFIG` outside a pod.
 */
export function inClusterConnection(
  env: NodeJS.ProcessEnv = process.env,
  options: { namespace?: string; dir?: string } = {},
): KubernetesConnection {
  const dir = options.dir ?? SERVICE_ACCOUNT_DIR
  const host = env.KUBERNETES_SERVICE_HOST
  if (!host) {
    throw new KubernetesError(
      'K8S_CONFIG',
      'KUBERNETES_SERVICE_HOST is not set: the control plane is not running in a pod; set LITECELL_K8S_API_URL and LITECELL_K8S_TOKEN_FILE instead',
    )
  }
  const read = (file: string): string => {
    try {
      return readFileSync(join(dir, file), 'utf8').trim()
    } catch (err) {
      throw new KubernetesError(
        'K8S_CONFIG',
        `read service-account ${file} in ${dir}: ${(err as Error).message}`,
        { cause: err },
      )
    }
  }
  const bracketed = host.includes(':') ? `[${host}]` : host
  return {
    apiUrl: `https://${bracketed}:${env.KUBERNETES_SERVICE_PORT || '443'}`,
    token: read('token'),
    ca: read('ca.crt'),
    namespace: options.namespace || read('namespace'),
  }
}

/**
 * A minimal JSON client of the Kubernetes REST API over node:https (no client library: the
 * launcher needs five calls). Every failure is a {@link KubernetesError} whose message says
 * what was being done and what to check, and never contains the token.
 */
export class KubernetesClient {
  readonly namespace: string
  readonly #url: URL
  readonly #token: string
  readonly #ca: string | undefined
  readonly #timeoutMs: number

  constructor(connection: KubernetesConnection, options: { timeoutMs?: number } = {}) {
    let url: URL
    try {
      url = new URL(connection.apiUrl)
    } catch {
      throw new TypeError(`Expected \`apiUrl\` to be a URL, got \`${connection.apiUrl}\``)
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new TypeError(`Expected \`apiUrl\` to be an http(s) URL, got \`${connection.apiUrl}\``)
    }
    if (typeof connection.token !== 'string' || connection.token === '') {
      throw new TypeError('Expected `token` to be a non-empty string')
    }
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(connection.namespace)) {
      throw new TypeError(
        `Expected \`namespace\` to be a namespace name, got \`${connection.namespace}\``,
      )
    }
    this.#url = url
    this.#token = connection.token
    this.#ca = connection.ca
    this.namespace = connection.namespace
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  }

  /** The path of a namespaced collection or object: `/api/v1/namespaces/<ns>/pods/<name>`. */
  path(resource: 'pods' | 'secrets', name?: string, subresource?: string): string {
    const object =
      name === undefined
        ? ''
        : `/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`
    return `/api/v1/namespaces/${this.namespace}/${resource}${object}`
  }

  /** A JSON call; `doing` names the operation for the error (`create pod litecell-acme-3`). */
  async json<T>(
    method: string,
    path: string,
    doing: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    const text = await this.text(
      method,
      path,
      doing,
      body === undefined ? undefined : { body: JSON.stringify(body), contentType },
    )
    return JSON.parse(text) as T
  }

  /** A call whose answer is returned as text (a pod's log). */
  async text(
    method: string,
    path: string,
    doing: string,
    payload?: { body: string; contentType: string },
  ): Promise<string> {
    const url = new URL(path, this.#url)
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const { status, text } = await new Promise<{ status: number; text: string }>(
      (resolve, reject) => {
        const req = send(
          url,
          {
            method,
            headers: {
              authorization: `Bearer ${this.#token}`,
              accept: 'application/json, */*',
              ...(payload ? { 'content-type': payload.contentType } : {}),
            },
            ...(this.#ca ? { ca: this.#ca } : {}),
            timeout: this.#timeoutMs,
          },
          (res) => {
            const chunks: Buffer[] = []
            let size = 0
            res.on('data', (chunk: Buffer) => {
              size += chunk.length
              if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk)
            })
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                text: Buffer.concat(chunks).toString('utf8'),
              }),
            )
            res.on('error', reject)
          },
        )
        req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)))
        req.on('error', reject)
        req.end(payload?.body)
      },
    ).catch((err: unknown) => {
      throw new KubernetesError(
        'K8S_UNAVAILABLE',
        `${doing}: ${(err as Error).message}; ${HINTS.K8S_UNAVAILABLE} (${this.#url.origin})`,
        { cause: err },
      )
    })
    if (status >= 200 && status < 300) return text
    const code = codeForStatus(status)
    throw new KubernetesError(code, `${doing}: ${status} ${statusMessage(text)}; ${HINTS[code]}`, {
      status,
    })
  }
}

/** The `message` of a Kubernetes `Status` answer, or the start of a non-JSON body. */
function statusMessage(text: string): string {
  try {
    const status = JSON.parse(text) as { message?: unknown; reason?: unknown }
    if (typeof status.message === 'string') return status.message
    if (typeof status.reason === 'string') return status.reason
  } catch {
    // not a Status object
  }
  return text.slice(0, 200)
}
