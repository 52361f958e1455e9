import { createRequire } from 'node:module'

/**
 * `require` from this package's folder, for what it loads at run time (s3rver, the Litestream
 * binary's platform package): its own dependencies, found the same whether this code runs from
 * its sources or inside a bundle elsewhere (the worker's, the control plane's in
 * packages/cli/dist/). Named from packages/: src/ and every dist/ sit at the same depth.
 */
export const packageRequire = createRequire(new URL('../../replica/package.json', import.meta.url))
