import { createHash } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import aws4 from 'aws4'
import {
  DEFAULT_S3_CONNECTION_TIMEOUT_MS,
  DEFAULT_S3_MAX_ATTEMPTS,
  DEFAULT_S3_REQUEST_TIMEOUT_MS,
} from './s3-client.js'
import { s3ErrorBody } from './s3-xml.js'
import type { StorageConfig } from './storage-config.js'

/** Backoff before the first retry, doubled per retry, with full jitter (the SDK's values). */
const RETRY_DELAY_BASE_MS = 100
/** The same for throttling answers (`SlowDown`, 429). */
const THROTTLING_RETRY_DELAY_BASE_MS = 500
const MAX_RETRY_DELAY_MS = 20_000
/** Open connections per client, as the SDK's Node handler allows. */
const MAX_SOCKETS = 50

// The SDK's classification of transient failures (@smithy/core retry), so both stores retry the
// same failures.
const TRANSIENT_STATUS_CODES = new Set([500, 502, 503, 504])
const TRANSIENT_CODES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
])
const THROTTLING_CODES = new Set([
  'BandwidthLimitExceeded',
  'PriorRequestNotComplete',
  'RequestLimitExceeded',
  'RequestThrottled',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
])

/** One S3 request: the bucket's subresource or object key, query and body. */
export interface S3Request {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE'
  /** Object key; absent for a request on the bucket. Sent percent-encoded, per SigV4. */
  readonly key?: string
  /** Query parameters, in any order (empty values are sent as `name=`). */
  readonly query?: Readonly<Record<string, string>>
  readonly body?: Buffer
  readonly headers?: Readonly<Record<string, string>>
}

/** A successful (2xx) answer. */
export interface S3Response {
  readonly statusCode: number
  readonly body: Buffer
}

/**
 * An S3 error answer: `name` and `code` are S3's `<Code>` (`NoSuchBucket`,
 * `InvalidAccessKeyId`, …), `statusCode` the HTTP status.
 */
export class S3ResponseError extends Error {
  override readonly name: string
  readonly code: string
  readonly statusCode: number

  constructor(code: string, message: string, statusCode: number) {
    super(message)
    this.name = code
    this.code = code
    this.statusCode = statusCode
  }
}

/** Options of {@link S3HttpClient}; tests shorten the timeouts. */
export interface S3HttpClientOptions {
  /** How long to wait for a TCP connection. @default 3000 */
  readonly connectTimeoutMs?: number
  /** How long a request may go without a byte from the server. @default 60000 */
  readonly requestTimeoutMs?: number
}

/**
 * A minimal S3 client over `node:http(s)` for configs with explicit credentials: SigV4
 * signing (the `aws4` package), keep-alive connections, the SDK's timeouts (connect 3 s, a
 * request idle 60 s) and its retries of transient failures (3 attempts, jittered backoff).
 * It keeps the AWS SDK (≈ 25 MB of RSS, issue 12) out of the worker. Addressing is the
 * SDK's: path-style at a custom endpoint, virtual-hosted at AWS (path-style for bucket
 * names with dots, which TLS wildcards do not cover).
 */
export class S3HttpClient {
  readonly #storage: StorageConfig
  readonly #credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }
  readonly #protocol: 'http:' | 'https:'
  readonly #hostname: string
  readonly #port: string
  /** Path before the key: `/bucket` (path-style, after any endpoint path) or empty. */
  readonly #basePath: string
  readonly #agent: http.Agent
  readonly #connectTimeoutMs: number
  readonly #requestTimeoutMs: number
  #closed = false

  constructor(storage: StorageConfig, opts: S3HttpClientOptions = {}) {
    const { accessKeyId, secretAccessKey } = storage
    if (accessKeyId === undefined || secretAccessKey === undefined) {
      throw new TypeError('Expected `accessKeyId` and `secretAccessKey` in the storage config')
    }
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_S3_CONNECTION_TIMEOUT_MS
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_S3_REQUEST_TIMEOUT_MS
    this.#storage = storage
    this.#credentials = { accessKeyId, secretAccessKey }
    const bucketPath = `/${encodeURIComponent(storage.bucket)}`
    if (storage.endpoint) {
      const url = new URL(storage.endpoint)
      this.#protocol = url.protocol === 'http:' ? 'http:' : 'https:'
      this.#hostname = url.hostname
      this.#port = url.port
      this.#basePath = `${url.pathname.replace(/\/+$/, '')}${bucketPath}`
    } else {
      const awsHost = `s3.${storage.region}.amazonaws.com${storage.region.startsWith('cn-') ? '.cn' : ''}`
      const virtual = !storage.bucket.includes('.')
      this.#protocol = 'https:'
      this.#hostname = virtual ? `${storage.bucket}.${awsHost}` : awsHost
      this.#port = ''
      this.#basePath = virtual ? '' : bucketPath
    }
    const AgentClass = this.#protocol === 'http:' ? http.Agent : https.Agent
    this.#agent = new AgentClass({ keepAlive: true, maxSockets: MAX_SOCKETS })
  }

  /**
   * Send a request, retrying transient failures; resolve with a 2xx answer, or reject with
   * an {@link S3ResponseError} (S3's error code) or the network error of the last attempt.
   */
  async send(request: S3Request): Promise<S3Response> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#sendOnce(request)
      } catch (err) {
        if (this.#closed || attempt >= DEFAULT_S3_MAX_ATTEMPTS || !isTransient(err)) throw err
        const baseMs = isThrottling(err) ? THROTTLING_RETRY_DELAY_BASE_MS : RETRY_DELAY_BASE_MS
        const delayMs = Math.random() * Math.min(baseMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS)
        await new Promise((resolve) => setTimeout(resolve, delayMs))
      }
    }
  }

  /** The URL of the bucket, or of one object: where requests go. */
  urlOf(key?: string): string {
    const port = this.#port ? `:${this.#port}` : ''
    const keyPath = key === undefined ? '' : `/${encodeKey(key)}`
    return `${this.#protocol}//${this.#hostname}${port}${`${this.#basePath}${keyPath}` || '/'}`
  }

  /** Close idle connections and refuse further requests. */
  close(): void {
    this.#closed = true
    this.#agent.destroy()
  }

  #sendOnce(request: S3Request): Promise<S3Response> {
    if (this.#closed) return Promise.reject(new Error('the S3 client is closed'))
    const keyPath = request.key === undefined ? '' : `/${encodeKey(request.key)}`
    const query = Object.entries(request.query ?? {})
      .map(([name, value]) => `${encodeRfc3986(name)}=${encodeRfc3986(value)}`)
      .join('&')
    const body = request.body
    const signed = aws4.sign(
      {
        service: 's3',
        region: this.#storage.region,
        method: request.method,
        host: this.#hostname,
        ...(this.#port ? { port: Number(this.#port) } : {}),
        path: (`${this.#basePath}${keyPath}` || '/') + (query ? `?${query}` : ''),
        headers: {
          ...request.headers,
          ...(body ? { 'Content-Length': String(body.length) } : {}),
          'X-Amz-Content-Sha256': createHash('sha256')
            .update(body ?? '')
            .digest('hex'),
        },
        ...(body ? { body } : {}),
      },
      this.#credentials,
    )
    const send = this.#protocol === 'http:' ? http.request : https.request
    return new Promise<S3Response>((resolve, reject) => {
      const req = send({
        protocol: this.#protocol,
        // An IPv6 endpoint (`[::1]`) is bracketed in URLs and the Host header, not here.
        hostname: this.#hostname.replace(/^\[(.*)\]$/, '$1'),
        ...(this.#port ? { port: Number(this.#port) } : {}),
        method: request.method,
        path: signed.path,
        headers: signed.headers as http.OutgoingHttpHeaders,
        agent: this.#agent,
        timeout: this.#requestTimeoutMs,
      })
      // A reused keep-alive socket is connected already; a new one gets the connect deadline.
      req.once('socket', (socket) => {
        if (!socket.connecting) return
        const timer = setTimeout(() => {
          req.destroy(
            timeoutError(
              `connect to ${this.#hostname} timed out after ${this.#connectTimeoutMs} ms`,
            ),
          )
        }, this.#connectTimeoutMs)
        socket.once('connect', () => clearTimeout(timer))
        socket.once('close', () => clearTimeout(timer))
      })
      req.once('timeout', () => {
        req.destroy(
          timeoutError(`no answer from ${this.#hostname} for ${this.#requestTimeoutMs} ms`),
        )
      })
      req.on('error', reject) // stays on: a second error event with no listener would crash the process
      req.once('response', (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.once('aborted', () =>
          reject(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })),
        )
        res.once('end', () => {
          const statusCode = res.statusCode ?? 0
          const answer = Buffer.concat(chunks)
          if (statusCode >= 200 && statusCode < 300) {
            resolve({ statusCode, body: answer })
            return
          }
          const parsed = s3ErrorBody(answer)
          const code = parsed?.code || httpErrorCode(statusCode)
          reject(new S3ResponseError(code, parsed?.message || `HTTP ${statusCode}`, statusCode))
        })
      })
      req.end(body)
    })
  }
}

/**
 * An object key as a URL path, per SigV4 for S3: each `/`-separated segment
 * percent-encoded as RFC 3986 (everything but `A-Za-z0-9-._~`), slashes kept.
 */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeRfc3986).join('/')
}

function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError', code: 'ETIMEDOUT' })
}

/** What the SDK calls an error answer without a body (a HEAD, or a proxy's page). */
function httpErrorCode(statusCode: number): string {
  if (statusCode === 404) return 'NotFound'
  if (statusCode === 403) return 'Forbidden'
  if (statusCode === 301) return 'PermanentRedirect'
  return `Http${statusCode}`
}

function isTransient(err: unknown): boolean {
  if (err instanceof S3ResponseError) {
    return (
      TRANSIENT_STATUS_CODES.has(err.statusCode) ||
      TRANSIENT_CODES.has(err.code) ||
      isThrottling(err)
    )
  }
  const record = err as { code?: unknown; name?: unknown } | null
  return (
    (typeof record?.code === 'string' && TRANSIENT_CODES.has(record.code)) ||
    (typeof record?.name === 'string' && TRANSIENT_CODES.has(record.name))
  )
}

function isThrottling(err: unknown): boolean {
  return (
    err instanceof S3ResponseError && (err.statusCode === 429 || THROTTLING_CODES.has(err.code))
  )
}
