import { LitecellClient, LitecellError } from '@litecell/client'
import type { Caller } from './api-types.js'

/** An error answer of the API (`{error: {code, message}}`), or no answer (status 0). */
export { LitecellError as ApiError }

/** Query parameters; undefined and empty values are left out. */
export type Query = Record<string, string | number | undefined | null>

/**
 * The dashboard's view of `@litecell/client`: the public API with the signed-in token as a
 * bearer header (never a cookie, so there is no CSRF surface, and `credentials: 'omit'`).
 * Paths are relative to the page, so the dashboard works behind a proxy that serves the
 * control plane under a prefix.
 */
export class Api {
  readonly token: string
  readonly #base: URL
  readonly #client: LitecellClient

  constructor(token: string, base: string = document.baseURI) {
    this.token = token
    this.#base = new URL('.', base)
    this.#client = new LitecellClient({
      baseUrl: this.#base.toString().replace(/\/$/, ''),
      token,
      fetch: (url, init) => fetch(url, { ...init, credentials: 'omit', cache: 'no-store' }),
    })
  }

  url(path: string, query: Query = {}): string {
    const url = new URL(path.replace(/^\//, ''), this.#base)
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '')
        url.searchParams.set(key, String(value))
    }
    return url.toString()
  }

  /** Sends a request; resolves with the parsed JSON body of a 2xx answer. */
  async request<T>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<T> {
    const response = await this.fetch(method, path, options)
    return (await response.json()) as T
  }

  /** Like {@link request}, but resolves with the raw response (streams, downloads). */
  fetch(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; signal?: AbortSignal; accept?: string } = {},
  ): Promise<Response> {
    const relative = this.url(path, options.query).slice(this.#base.toString().length - 1)
    return this.#client.fetch(method, relative, {
      headers: { accept: options.accept ?? 'application/json' },
      ...(options.body !== undefined ? { body: options.body } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })
  }

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, {
      ...(query ? { query } : {}),
      ...(signal ? { signal } : {}),
    })
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, { body })
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path)
  }

  /** Who this token is: the admin, or one tenant. A wrong token rejects with status 401. */
  whoami(): Promise<Caller> {
    return this.#client.whoami()
  }
}

/** `/v1/tenants/<id>` with the id encoded. */
export function tenantPath(tenantId: string, rest = ''): string {
  return `v1/tenants/${encodeURIComponent(tenantId)}${rest}`
}
