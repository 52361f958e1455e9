import { Hono } from 'hono'
import {
  bearerToken,
  CALLBACK_ROUTE,
  isWorkerCallback,
  parseCallbackCaller,
  parseHeartbeatReport,
  parseHibernatedReport,
  parseReadyReport,
  parseRefusedReport,
  readJsonObject,
  requestHeader,
} from '@litecell/protocol'
import { ControlPlaneError } from './control-plane-error.js'
import type { LeaseDesk } from './fleet/lease-desk.js'

/**
 * Routes workers call back on (`@litecell/protocol`'s internal API): ready, heartbeat (lease
 * renewal), idle (may I hibernate?), refused (it cannot serve the tenant: its engine refused
 * the tenant's file, or its app does not load) and hibernated. Each names tenant and epoch and carries
 * the worker's secret as bearer token; a worker whose epoch is not current gets `LEASE_LOST`
 * and fences itself.
 */
export function createInternalRoutes(leases: LeaseDesk): Hono {
  const routes = new Hono()
  routes.post(CALLBACK_ROUTE, async (context) => {
    const callback = context.req.param('callback')
    if (!isWorkerCallback(callback)) {
      throw new ControlPlaneError('NOT_FOUND', 'no such worker callback')
    }
    const body = await readJsonObject(context)
    const caller = parseCallbackCaller(body)
    const secret = bearerToken(requestHeader(context, 'authorization'))
    switch (callback) {
      case 'ready':
        return context.json(leases.ready(caller, secret, parseReadyReport(body)))
      case 'heartbeat':
        return context.json(leases.heartbeat(caller, secret, parseHeartbeatReport(body)))
      case 'idle':
        return context.json(leases.idle(caller, secret))
      case 'refused':
        leases.refused(caller, secret, parseRefusedReport(body))
        return context.json({ ok: true })
      case 'hibernated':
        leases.hibernated(caller, secret, parseHibernatedReport(body))
        return context.json({ ok: true })
    }
  })
  return routes
}
