import { useEffect, useState } from 'preact/hooks'

/** A parsed location of the dashboard (kept in the URL's hash, so the server serves one page). */
export type Route =
  | { page: 'tenants'; query: URLSearchParams }
  | { page: 'tenant'; tenantId: string; tab: 'runs' | 'data'; query: URLSearchParams }
  | { page: 'run'; tenantId: string; runId: string; query: URLSearchParams }

/** Parses `#/tenants/acme/runs/r_1?x=y` and friends; unknown hashes go to the tenant list. */
export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?', 2)
  const query = new URLSearchParams(search)
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent)
  if (parts[0] === 'tenants' && parts[1]) {
    const tenantId = parts[1]
    if (parts[2] === 'runs' && parts[3]) return { page: 'run', tenantId, runId: parts[3], query }
    return { page: 'tenant', tenantId, tab: parts[2] === 'data' ? 'data' : 'runs', query }
  }
  return { page: 'tenants', query }
}

/** The hash of a tenant's page, runs tab unless `tab` says data. */
export function tenantHref(tenantId: string, tab: 'runs' | 'data' = 'runs', query?: Record<string, string>): string {
  return withQuery(`#/tenants/${encodeURIComponent(tenantId)}${tab === 'data' ? '/data' : ''}`, query)
}

export function runHref(tenantId: string, runId: string): string {
  return `#/tenants/${encodeURIComponent(tenantId)}/runs/${encodeURIComponent(runId)}`
}

export function tenantsHref(query?: Record<string, string>): string {
  return withQuery('#/', query)
}

function withQuery(hash: string, query: Record<string, string> | undefined): string {
  const search = new URLSearchParams(Object.entries(query ?? {}).filter(([, value]) => value !== ''))
  const text = search.toString()
  return text ? `${hash}?${text}` : hash
}

/** The current route; re-renders on `hashchange`. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash))
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash))
    addEventListener('hashchange', onChange)
    return () => removeEventListener('hashchange', onChange)
  }, [])
  return route
}

/** Replaces the hash without a history entry (filters, pages). */
export function replaceHash(hash: string): void {
  history.replaceState(null, '', hash)
  dispatchEvent(new HashChangeEvent('hashchange'))
}
