/** Joins URL path segments, each percent-encoded: `apiPath('tenants', id)` → `/v1/tenants/<id>`. */
export function apiPath(...segments: readonly string[]): string {
  return `/v1/${segments.map((segment) => encodeURIComponent(segment)).join('/')}`
}

/** Query-string values; `undefined` entries are left out. */
export type QueryParams = Readonly<Record<string, string | number | undefined>>

/** `path` with the defined `query` values appended. */
export function withQuery(path: string, query: QueryParams | undefined): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined) params.set(name, String(value))
  }
  const text = params.toString()
  return text === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${text}`
}
