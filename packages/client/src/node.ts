/**
 * `@litecell/client` as Node resolves it (the `node` export condition): the same API, whose
 * clients send over `node:http` / `node:https` ({@link nodeFetch}) instead of the global
 * `fetch`, which costs several times the CPU per request. Browsers (the dashboard) get
 * `index.ts`, on `fetch` alone.
 */
import { setDefaultFetch } from './default-fetch.js'
import { nodeFetch } from './node-fetch.js'

setDefaultFetch(nodeFetch)

export * from './index.js'
export { nodeFetch } from './node-fetch.js'
