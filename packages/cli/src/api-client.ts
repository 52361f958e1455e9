import { CliError, EXIT_CODES, type ExitCode } from './cli-error.js'

/** Where and as whom the client talks to the litecell API. */
export interface ApiClientOptions {
  /** Base URL without a trailing path, e.g. `http://127.0.0.1:8787`. */
  readonly baseUrl: string
  /** Bearer token (admin or tenant); requests go without one if absent. */
  readonly token?: string | undefined
}

/** Query-string values; `undefined` entries are left out. */
export type QueryParams = Readonly<Record<string, string | number | undefined>>

/**
 * An error response of the API (`{error: {code, message}}`), with its HTTP status. Its
 * message is the one line the CLI prints: `404 TENANT_NOT_FOUND: no tenant acme`.
 */
export class ApiError extends CliError {
  override name = 'ApiError'
  readonly status: number
  /** The server's message, without the status and code prefix. */
  readonly detail: string

  constructor(status: number, code: string, detail: string) {
    super(code, `${status} ${code}: ${detail}${hintFor(status)}`, { exitCode: exitCodeFor(status) })
    this.status = status
    this.detail = detail
  }
}

/** Maps an HTTP error status to the CLI's exit code. */
export function exitCodeFor(status: number): ExitCode {
  if (status === 404) return EXIT_CODES.NOT_FOUND
  if (status === 401 || status === 403) return EXIT_CODES.AUTH
  return EXIT_CODES.ERROR
}

function hintFor(status: number): string {
  if (status === 401) return ' (set LITECELL_TOKEN or pass --token)'
  return ''
}

/**
 * A small JSON client for the litecell HTTP API (`../shared/API.md`). Every method either
 * returns the parsed body of a 2xx response or throws: {@link ApiError} for an API error,
 * `CliError` `CONNECTION_FAILED` when the server can't be reached.
 */
export class ApiClient {
  readonly #baseUrl: string
  readonly #token: string | undefined

  constructor(options: ApiClientOptions) {
    if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
      throw new CliError(
        'USAGE',
        `Expected the API URL to start with http:// or https://, got \`${String(options.baseUrl)}\``,
        { exitCode: EXIT_CODES.USAGE },
      )
    }
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.#token = options.token
  }

  /** The base URL requests go to. */
  get baseUrl(): string {
    return this.#baseUrl
  }

  get<T>(path: string, query?: QueryParams): Promise<T> {
    return this.request<T>('GET', path, { query })
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, { body })
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path)
  }

  /** Sends one request and parses the JSON body of its 2xx response. */
  async request<T>(
    method: string,
    path: string,
    options: { body?: unknown; query?: QueryParams | undefined } = {},
  ): Promise<T> {
    const response = await this.fetch(method, path, options)
    const text = await response.text()
    try {
      return (text === '' ? null : JSON.parse(text)) as T
    } catch (err) {
      throw new CliError(
        'INVALID_RESPONSE',
        `${method} ${path}: expected JSON from ${this.#baseUrl}, got ${JSON.stringify(text.slice(0, 80))}`,
        { cause: err },
      )
    }
  }

  /**
   * Sends one request and returns the raw 2xx response (for streamed bodies such as the
   * snapshot); an error response is thrown as {@link ApiError}.
   */
  async fetch(
    method: string,
    path: string,
    options: { body?: unknown; query?: QueryParams | undefined } = {},
  ): Promise<Response> {
    const url = new URL(`${this.#baseUrl}${path}`)
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value))
    }
    const headers: Record<string, string> = {}
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    if (this.#token) headers.authorization = `Bearer ${this.#token}`
    let response: Response
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      })
    } catch (err) {
      throw connectionError(this.#baseUrl, err)
    }
    if (!response.ok) throw await errorOf(response)
    return response
  }
}

/** Joins URL path segments, each percent-encoded: `apiPath('tenants', id)` → `/v1/tenants/<id>`. */
export function apiPath(...segments: readonly string[]): string {
  return `/v1/${segments.map((segment) => encodeURIComponent(segment)).join('/')}`
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '')
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }
    if (typeof body.error?.code === 'string') {
      return new ApiError(response.status, body.error.code, String(body.error.message ?? ''))
    }
  } catch {
    // Not the API's error shape (a proxy in between?): report the status line instead.
  }
  const detail =
    text.trim().split('\n')[0]?.slice(0, 200) || response.statusText || 'request failed'
  return new ApiError(response.status, `HTTP_${response.status}`, detail)
}

function connectionError(baseUrl: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause
  const code = typeof cause?.code === 'string' ? cause.code : undefined
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : (code ?? String(cause?.message ?? (err as Error).message))
  return new CliError(
    'CONNECTION_FAILED',
    `cannot reach ${baseUrl} (${reason}); is the server running? start it with \`pnpm start\`, or set LITECELL_URL`,
    { cause: err },
  )
}
