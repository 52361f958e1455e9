import { type ApiRoute } from './route-types.js'

/** Health, this document, the caller, metrics and the fleet. */
export const OPERATION_ROUTES: readonly ApiRoute[] = [
  {
    method: 'get',
    path: '/v1/health',
    summary: 'Liveness',
    tag: 'operations',
    auth: 'none',
    success: { status: 200, description: '`{ok: true}`' },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    tag: 'operations',
    auth: 'none',
    success: { status: 200, description: 'The OpenAPI 3.1 document of the API.' },
  },
  {
    method: 'get',
    path: '/v1/whoami',
    summary: "The caller of the request's token",
    tag: 'operations',
    auth: 'any',
    success: { status: 200, description: '`{role: "admin"}` or `{role: "tenant", tenantId}`' },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (if enabled)',
    tag: 'operations',
    auth: 'admin',
    success: { status: 200, description: 'The Prometheus text exposition.', content: 'prometheus' },
  },
  {
    method: 'get',
    path: '/v1/fleet',
    summary: 'Workers, tenants by state, recent wakes and hibernations',
    tag: 'operations',
    auth: 'admin',
    success: { status: 200, description: 'The fleet summary.' },
  },
]
