/** How a client sends its requests: `fetch`'s shape, the part litecell uses. */
export type Fetch = (url: string, init: RequestInit) => Promise<Response>

/** The global `fetch`, until the Node entry (`node.ts`) puts `nodeFetch` in its place. */
let current: Fetch = (url, init) => fetch(url, init)

/** The transport of a client constructed without its own `fetch`. */
export function defaultFetch(): Fetch {
  return current
}

/** Sets the transport of clients constructed from now on without their own `fetch`. */
export function setDefaultFetch(fetch: Fetch): void {
  current = fetch
}
