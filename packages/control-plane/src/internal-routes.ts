import { Hono } from 'hono'
import {
  describe,
  optionalInteger,
  readJsonObject,
  requireString,
  type JsonObject,
  type MetricsDelta,
} from '@litecell/worker'
import { ControlPlaneError } from './control-plane-error.js'
import type { Fleet } from './fleet.js'
import { parseTenantId } from './tenant-id.js'

/**
 * Routes workers call back on: ready, heartbeat (lease renewal), idle (may I hibernate?),
 * refused (the engine refused the tenant's file) and hibernated. Each names tenant and epoch and carries the worker's secret as bearer token;
 * a worker whose epoch is not current gets 409 and fences itself.
 */
export function createInternalRoutes(fleet: Fleet): Hono {
  const routes = new Hono()
  routes.post('/workers/:action', async (context) => {
    const body = await readJsonObject(context)
    const tenantId = parseTenantId(body.tenantId)
    const epoch = optionalInteger(body.epoch, 'epoch', 1, Number.MAX_SAFE_INTEGER) ?? 0
    const secret = /^Bearer\s+(\S+)$/i.exec(context.req.header('authorization') ?? '')?.[1]
    const nextWakeAt = optionalInteger(body.nextWakeAt, 'nextWakeAt', 0, Number.MAX_SAFE_INTEGER) ?? null
    switch (context.req.param('action')) {
      case 'ready': {
        const quarantinedRuns = optionalInteger(body.quarantinedRuns, 'quarantinedRuns', 0, Number.MAX_SAFE_INTEGER) ?? 0
        return context.json(fleet.workerReady(tenantId, epoch, secret, requireString(body, 'url', 2048), quarantinedRuns))
      }
      case 'heartbeat': {
        const activeRuns = optionalInteger(body.activeRuns, 'activeRuns', 0, Number.MAX_SAFE_INTEGER) ?? 0
        const rssBytes = optionalInteger(body.rssBytes, 'rssBytes', 0, Number.MAX_SAFE_INTEGER)
        return context.json(fleet.workerHeartbeat(tenantId, epoch, secret, { activeRuns, metrics: metricsOf(body), rssBytes }))
      }
      case 'idle':
        return context.json(fleet.workerIdle(tenantId, epoch, secret))
      case 'refused': {
        const code = requireString(body, 'code')
        if (code !== 'APP_MISMATCH' && code !== 'MIGRATION_MISMATCH') {
          throw new ControlPlaneError('BAD_REQUEST', `Expected \`code\` to be APP_MISMATCH or MIGRATION_MISMATCH, got ${describe(code)}`)
        }
        fleet.workerRefused(tenantId, epoch, secret, { code, message: requireString(body, 'message', 4096) })
        return context.json({ ok: true })
      }
      case 'hibernated':
        fleet.workerHibernated(tenantId, epoch, secret, nextWakeAt, metricsOf(body))
        return context.json({ ok: true })
      default:
        return context.json({ error: { code: 'NOT_FOUND', message: 'no such worker action' } }, 404)
    }
  })
  return routes
}

/** The metrics a worker sent, if well-formed (malformed metrics are dropped, not fatal). */
function metricsOf(body: JsonObject): MetricsDelta | undefined {
  const metrics = body.metrics as Partial<MetricsDelta> | undefined
  if (typeof metrics !== 'object' || metrics === null) return undefined
  const isCount = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0
  if (!isCount(metrics.steps) || !isCount(metrics.replicationRestarts)) return undefined
  if (!Array.isArray(metrics.stepMs) || !metrics.stepMs.every(isCount)) return undefined
  if (typeof metrics.runs !== 'object' || metrics.runs === null) return undefined
  if (!Object.values(metrics.runs).every(isCount)) return undefined
  return metrics as MetricsDelta
}
