/** A response as tests look at it. */
export interface ApiResponse<T = any> {
  status: number
  body: T
}

/** A tiny JSON client for the litecell API, bound to a base URL and a token. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string | undefined,
  ) {}

  /** The same server, another token. */
  as(token: string | undefined): ApiClient {
    return new ApiClient(this.baseUrl, token)
  }

  async request<T = any>(method: string, path: string, body?: unknown, rawBody?: string): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (this.token) headers.authorization = `Bearer ${this.token}`
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
    })
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // not JSON (snapshot, metrics): keep the text
    }
    return { status: response.status, body: parsed as T }
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path)
  }

  post<T = any>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body ?? {})
  }

  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path)
  }

  /** POST that must succeed; returns the body. */
  async ok<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request<T>(method, path, body)
    if (response.status >= 300) {
      throw new Error(`${method} ${path} → ${response.status} ${JSON.stringify(response.body)}`)
    }
    return response.body
  }
}
