import { Hono } from 'hono'
import { SECURITY_HEADERS, type DashboardAssets } from '@litecell/dashboard'
import type { Logger } from 'pino'

/** Cache lifetime of content-hashed assets: their name changes with their content. */
const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable'

/**
 * The web dashboard at `/` and its hashed files at `/assets/*`, served without authentication
 * (the page signs in by itself and calls the API with a bearer token). Every response carries
 * the dashboard's Content-Security-Policy. The assets are built (or read from the build cache)
 * while the control plane starts; until then, or if the build failed, `/` answers 503.
 */
export function createDashboardRoutes(assets: Promise<DashboardAssets>, log: Logger): Hono {
  const routes = new Hono()
  let loaded: DashboardAssets | undefined
  let failure: Error | undefined
  assets.then(
    (value) => {
      loaded = value
      log.info({ fingerprint: value.fingerprint, built: value.wasBuilt }, 'dashboard ready')
    },
    (err: Error) => {
      failure = err
      log.error({ err }, 'dashboard build failed; the API works without it')
    },
  )
  const serve = async (path: string) => {
    const ready = loaded ?? (failure ? undefined : await assets.catch(() => undefined))
    const asset = ready?.get(path)
    if (!ready) {
      return new Response(`dashboard unavailable: ${failure?.message ?? 'not built'}\n`, {
        status: 503,
        headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS },
      })
    }
    if (!asset) return new Response('not found\n', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS } })
    return new Response(asset.body, {
      headers: {
        'content-type': asset.contentType,
        'cache-control': asset.isImmutable ? IMMUTABLE_CACHE : 'no-cache',
        ...SECURITY_HEADERS,
      },
    })
  }
  routes.get('/', () => serve('index.html'))
  routes.get('/index.html', () => serve('index.html'))
  routes.get('/assets/:file', (context) => serve(`assets/${context.req.param('file')}`))
  return routes
}
