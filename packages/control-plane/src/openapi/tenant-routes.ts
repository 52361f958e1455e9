import { CreateTenantBody, ForkTenantBody, UpgradeTenantBody } from '@litecell/protocol'
import { type ApiRoute, T } from './route-types.js'

/** Tenants: create, list, show, delete, hibernate, wake, upgrade, fork, logs. */
export const TENANT_ROUTES: readonly ApiRoute[] = [
  {
    method: 'post',
    path: '/v1/tenants',
    summary: 'Create a tenant (its token is in the answer, once)',
    tag: 'tenants',
    auth: 'admin',
    body: { name: 'CreateTenantRequest', schema: CreateTenantBody },
    success: { status: 201, description: '`{id, token, state}`' },
  },
  {
    method: 'get',
    path: '/v1/tenants',
    summary: 'A page of tenants, oldest first',
    tag: 'tenants',
    auth: 'admin',
    query: [
      { name: 'limit', type: 'integer', description: 'Tenants per page (1–1000).' },
      { name: 'cursor', type: 'string', description: 'The `nextCursor` of the previous page.' },
      {
        name: 'state',
        type: 'string',
        description: 'Only tenants in this state.',
        enum: ['hibernated', 'starting', 'active', 'stopping', 'failed'],
      },
      {
        name: 'label.{key}',
        type: 'string',
        description: 'Only tenants with this label value (repeatable per key).',
      },
    ],
    success: { status: 200, description: '`{tenants, nextCursor}`' },
  },
  {
    method: 'get',
    path: T,
    summary: 'A tenant, its worker and restore points',
    tag: 'tenants',
    auth: 'tenant',
    success: { status: 200, description: 'The tenant.' },
  },
  {
    method: 'delete',
    path: T,
    summary: 'Delete a tenant, its files and its replica',
    tag: 'tenants',
    auth: 'admin',
    success: { status: 200, description: '`{id, deleted: true}`' },
  },
  {
    method: 'post',
    path: `${T}/hibernate`,
    summary: 'Stop its worker after a verified final sync',
    tag: 'tenants',
    auth: 'admin',
    success: { status: 200, description: 'The tenant, hibernated.' },
  },
  {
    method: 'post',
    path: `${T}/wake`,
    summary: 'Start its worker (a failed tenant too)',
    tag: 'tenants',
    auth: 'admin',
    success: { status: 200, description: 'The tenant, active.' },
  },
  {
    method: 'post',
    path: `${T}/upgrade`,
    summary: "Switch the tenant's app, or restart it on new code",
    tag: 'tenants',
    auth: 'admin',
    body: { name: 'UpgradeTenantRequest', schema: UpgradeTenantBody },
    success: { status: 200, description: 'The tenant, woken on the app.' },
  },
  {
    method: 'post',
    path: `${T}/fork`,
    summary: 'A new tenant from this one, now or at a restore point',
    tag: 'tenants',
    auth: 'admin',
    body: { name: 'ForkTenantRequest', schema: ForkTenantBody },
    success: { status: 201, description: '`{id, token, state}`' },
  },
  {
    method: 'get',
    path: `${T}/logs`,
    summary: "The tenant's worker log (the Kubernetes launcher answers 501)",
    tag: 'tenants',
    auth: 'admin',
    query: [
      {
        name: 'lines',
        type: 'integer',
        description: 'The last lines to show (0–10000, default 100).',
      },
      {
        name: 'follow',
        type: 'boolean',
        description: 'Keep the response open and send new lines.',
      },
    ],
    success: {
      status: 200,
      description: 'Log lines (JSON lines as the worker wrote them).',
      content: 'text',
    },
  },
]
