import type { Caller } from './api-types.js'

/** An error answer of the API (`{error: {code, message}}`), or a network failure (status 0). */
export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: number
  readonly code: string

  constructor(status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** Query parameters; undefined and empty values are left out. */
export type Query = Record<string, string | number | undefined | null>

/**
 * The dashboard's HTTP client: the public API with the signed-in token as a bearer header
 * (never a cookie, so there is no CSRF surface). Paths are relative to the page, so the
 * dashboard works behind a proxy that serves the control plane under a prefix.
 */
export class Api {
  readonly token: string
  readonly #base: URL

  constructor(token: string, base: string = document.baseURI) {
    this.token = token
    this.#base = new URL('.', base)
  }

  url(path: string, query: Query = {}): string {
    const url = new URL(path.replace(/^\//, ''), this.#base)
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value))
    }
    return url.toString()
  }

  /** Sends a request; resolves with the parsed JSON body of a 2xx answer. */
  async request<T>(method: string, path: string, options: { query?: Query; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    const response = await this.fetch(method, path, options)
    return (await response.json()) as T
  }

  /** Like {@link request}, but resolves with the raw response (streams, downloads). */
  async fetch(method: string, path: string, options: { query?: Query; body?: unknown; signal?: AbortSignal; accept?: string } = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: options.accept ?? 'application/json' }
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await fetch(this.url(path, options.query), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
        credentials: 'omit',
        cache: 'no-store',
      })
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err
      throw new ApiError(0, 'NETWORK', `the control plane did not answer (${(err as Error).message})`)
    }
    if (!response.ok) throw await errorOf(response)
    return response
  }

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { query, signal })
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, { body })
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path)
  }

  /** Who this token is: the admin, or one tenant. A wrong token rejects with status 401. */
  whoami(): Promise<Caller> {
    return this.get<Caller>('v1/whoami')
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '')
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } }
    if (body.error?.message) return new ApiError(response.status, body.error.code ?? 'ERROR', body.error.message)
  } catch {
    // not JSON: fall through
  }
  return new ApiError(response.status, 'HTTP_' + response.status, text.slice(0, 200) || response.statusText)
}

/** `/v1/tenants/<id>` with the id encoded. */
export function tenantPath(tenantId: string, rest = ''): string {
  return `v1/tenants/${encodeURIComponent(tenantId)}${rest}`
}
