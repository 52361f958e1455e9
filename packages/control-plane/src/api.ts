import { Hono } from 'hono'
import {
  CALLBACK_BASE_PATH,
  CreateTenantBody,
  UpdateTenantBody,
  ForkTenantBody,
  UpgradeTenantBody,
  errorResponse,
  limitBody,
  optionalInteger,
  parseBody,
  parseTenantId,
  readJsonObject,
  requestHeader,
} from '@litecell/protocol'
import type { Logger } from 'pino'
import type { DashboardAssets } from '@litecell/dashboard'
import type { Auth } from './auth.js'
import { ControlPlaneError } from './control-plane-error.js'
import { createDashboardRoutes } from './dashboard-routes.js'
import type { Fleet } from './fleet/fleet.js'
import type { FleetSummary } from './fleet-summary.js'
import { createInternalRoutes } from './internal-routes.js'
import { RequestErrorLog } from './request-error-log.js'
import { openApiDocument } from './openapi/openapi-document.js'
import type { Launcher } from './launcher.js'
import { parseFlag } from './request-validation.js'
import { DEFAULT_LOG_LINES, MAX_LOG_LINES } from './tenant-log.js'
import { parseTenantListQuery } from './tenant-list-query.js'
import type { TenantService } from './tenant-service.js'
import { streamRuns } from './run-stream-proxy.js'
import { RunStreamSlots } from './run-stream-slots.js'
import { proxyToWorker } from './worker-proxy.js'
import { traceApiRequests } from './tracing.js'

/** Largest request body the API accepts. */
export const MAX_BODY_BYTES = 1024 * 1024

/** What the public API is built from. */
export interface ApiOptions {
  readonly auth: Auth
  readonly fleet: Fleet
  readonly tenants: TenantService
  readonly log: Logger
  /** Prometheus exposition, if metrics are enabled. */
  readonly metrics?: () => Promise<string>
  /** `GET /v1/fleet`: workers, tenants by state, recent wakes and hibernations. */
  readonly fleetSummary?: () => FleetSummary
  /** The web dashboard's assets, served at `/` (no dashboard if absent). */
  readonly dashboard?: Promise<DashboardAssets>
  /** Where tenants' worker logs are read (`GET /v1/tenants/:id/logs`; 501 without `logs`). */
  readonly launcher?: Pick<Launcher, 'logs' | 'logsUnavailableHint'>
}

/**
 * The public HTTP API (`../shared/API.md`) plus the internal worker callbacks. Errors from
 * every layer become `{error: {code, message}}` in the one `onError` below.
 */
export function createApi(options: ApiOptions): Hono {
  const { auth, fleet, tenants, log } = options
  const app = new Hono()

  const errors = new RequestErrorLog(log)
  const runStreams = new RunStreamSlots()
  app.onError((err, context) => {
    const response = errorResponse(context, err)
    errors.record(context, err, response.status)
    return response
  })
  app.notFound(() => {
    throw new ControlPlaneError('NOT_FOUND', 'no such route')
  })
  app.use('*', traceApiRequests())
  app.use('*', limitBody(MAX_BODY_BYTES))

  app.get('/v1/health', (context) => context.json({ ok: true }))
  let document: object | undefined
  app.get('/openapi.json', (context) => context.json((document ??= openApiDocument())))
  if (options.dashboard) app.route('/', createDashboardRoutes(options.dashboard, log))
  app.get('/v1/whoami', (context) => {
    const caller = auth.callerOf(requestHeader(context, 'authorization'))
    if (!caller) throw new ControlPlaneError('UNAUTHENTICATED', 'missing or invalid bearer token')
    return context.json(caller)
  })
  app.route(CALLBACK_BASE_PATH, createInternalRoutes(fleet.leases))
  if (options.metrics) {
    const metrics = options.metrics
    app.get('/metrics', auth.requireAdmin(), async (context) =>
      context.text(await metrics(), 200, { 'content-type': 'text/plain; version=0.0.4' }),
    )
  }

  app.post('/v1/tenants', auth.requireAdmin(), async (context) => {
    const body = parseBody(CreateTenantBody, await readJsonObject(context))
    return context.json(await tenants.create(body), 201)
  })
  if (options.fleetSummary) {
    const summary = options.fleetSummary
    app.get('/v1/fleet', auth.requireAdmin(), (context) => context.json(summary()))
  }
  app.get('/v1/tenants', auth.requireAdmin(), (context) =>
    context.json(tenants.list(parseTenantListQuery(context.req.query()))),
  )

  const tenant = new Hono()
  tenant.get('/', auth.requireTenant(), async (context) => context.json(await tenants.show(id(context))))
  tenant.patch('/', auth.requireAdmin(), async (context) => {
    const { labels, durability } = parseBody(UpdateTenantBody, await readJsonObject(context))
    const updated = await tenants.update(id(context), {
      ...(labels ? { labels } : {}),
      ...(durability ? { durability } : {}),
    })
    return context.json(updated)
  })
  tenant.post('/hibernate', auth.requireAdmin(), async (context) => context.json(await tenants.hibernate(id(context))))
  tenant.post('/wake', auth.requireAdmin(), async (context) => context.json(await tenants.wake(id(context))))
  tenant.post('/upgrade', auth.requireAdmin(), async (context) => {
    const { app } = parseBody(UpgradeTenantBody, await readJsonObject(context))
    return context.json(await tenants.upgrade(id(context), app === undefined ? {} : { app }))
  })
  tenant.post('/fork', auth.requireAdmin(), async (context) => {
    const body = parseBody(ForkTenantBody, await readJsonObject(context))
    const forked = await tenants.fork(id(context), {
      id: body.id,
      at: body.at == null ? undefined : new Date(body.at),
    })
    return context.json(forked, 201)
  })
  tenant.get('/logs', auth.requireAdmin(), (context) => {
    const tenantId = id(context)
    tenants.require(tenantId)
    const launcher = options.launcher
    if (!launcher?.logs) {
      const hint = launcher?.logsUnavailableHint?.(tenantId) ?? 'this launcher keeps no logs'
      throw new ControlPlaneError('LOGS_UNAVAILABLE', `logs of tenant ${tenantId}: ${hint}`)
    }
    const request = {
      lines: optionalInteger(context.req.query('lines'), 'lines', 0, MAX_LOG_LINES) ?? DEFAULT_LOG_LINES,
      follow: parseFlag(context.req.query('follow'), 'follow'),
      signal: context.req.raw.signal,
    }
    return new Response(launcher.logs(tenantId, request), {
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
    })
  })
  tenant.delete('/', auth.requireAdmin(), async (context) => {
    await tenants.delete(id(context))
    return context.json({ id: id(context), deleted: true })
  })
  // The run stream never wakes the tenant: it follows whichever worker serves it (first, so
  // the forwarding below does not take it).
  tenant.get('/runs/stream', auth.requireTenant(), (context) => {
    const tenantId = id(context)
    tenants.require(tenantId)
    const release = runStreams.take(tenantId)
    return streamRuns(fleet, tenantId, {
      onEnd: release,
      signal: context.req.raw.signal,
      exists: () => tenants.exists(tenantId),
      durability: () => (tenants.exists(tenantId) ? tenants.durabilityOf(tenants.get(tenantId)) : 'local'),
    })
  })
  // Run, workflow, schedule, query and snapshot routes live in the tenant's worker: wake it
  // and forward.
  for (const path of ['/runs', '/runs/*', '/workflows', '/schedules', '/schedules/*', '/query', '/snapshot']) {
    tenant.all(path, auth.requireTenant(), async (context) => {
      const record = tenants.get(id(context))
      return proxyToWorker(context, fleet, record.id, tenants.durabilityOf(record))
    })
  }
  app.route('/v1/tenants/:id', tenant)
  return app
}

/** The validated `:id` route parameter (checked after authentication, so 401 comes first). */
function id(context: { req: { param(name: 'id'): string } }): string {
  return parseTenantId(context.req.param('id'))
}
