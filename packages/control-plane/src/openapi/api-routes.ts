import {
  BackfillScheduleBody,
  CreateScheduleBody,
  CreateTenantBody,
  ForkRunBody,
  ForkTenantBody,
  QueryBody,
  RunStatusesBody,
  SendEventBody,
  StartRunBody,
  StartRunsBody,
  TriggerScheduleBody,
  UpgradeTenantBody,
} from '@litecell/protocol'
import type { z } from 'zod'

/** Who may call a route: nobody in particular, any valid token, the admin, or the admin and the tenant's own token. */
export type RouteAuth = 'none' | 'any' | 'admin' | 'tenant'

/** A query parameter of a route. */
export interface QueryParam {
  readonly name: string
  readonly description: string
  readonly type: 'string' | 'integer' | 'boolean'
  readonly enum?: readonly string[]
}

/** One route of the public API, as the OpenAPI document shows it. */
export interface ApiRoute {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete'
  /** OpenAPI path: `/v1/tenants/{id}/runs/{runId}`. */
  readonly path: string
  readonly summary: string
  readonly tag: 'tenants' | 'runs' | 'schedules' | 'data' | 'operations'
  readonly auth: RouteAuth
  /** The zod schema that checks the request body (the route parses the body with it). */
  readonly body?: { readonly name: string; readonly schema: z.ZodType }
  readonly query?: readonly QueryParam[]
  /** The success status and what its body is. */
  readonly success: {
    readonly status: number
    readonly description: string
    readonly content?: 'json' | 'text' | 'sqlite' | 'event-stream' | 'prometheus'
  }
}

const T = '/v1/tenants/{id}'
const R = `${T}/runs/{runId}`
const S = `${T}/schedules/{sid}`

const RUN_STATUS_VALUES = [
  'pending',
  'running',
  'sleeping',
  'waiting',
  'succeeded',
  'failed',
  'cancelled',
] as const

/**
 * Every route the server answers, in the API's order (`../shared/API.md`). A test checks that
 * every route the control plane and the worker register is here, so a new route without an
 * entry fails the build.
 */
export const API_ROUTES: readonly ApiRoute[] = [
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

  {
    method: 'post',
    path: `${T}/runs`,
    summary: 'Start a run',
    tag: 'runs',
    auth: 'tenant',
    body: { name: 'StartRunRequest', schema: StartRunBody },
    success: { status: 202, description: '`{runId, status}`' },
  },
  {
    method: 'post',
    path: `${T}/runs/batch`,
    summary: 'Start many runs in one commit (all or none)',
    tag: 'runs',
    auth: 'tenant',
    body: { name: 'StartRunsRequest', schema: StartRunsBody },
    success: { status: 202, description: '`{runIds}`' },
  },
  {
    method: 'get',
    path: `${T}/runs`,
    summary: 'A page of runs, newest first',
    tag: 'runs',
    auth: 'tenant',
    query: [
      {
        name: 'status',
        type: 'string',
        description: 'Only runs with this status.',
        enum: RUN_STATUS_VALUES,
      },
      { name: 'workflow', type: 'string', description: 'Only runs of this workflow.' },
      {
        name: 'tag.{key}',
        type: 'string',
        description: 'Only runs with this tag value (repeat different keys to AND them).',
      },
      { name: 'limit', type: 'integer', description: 'Runs per page (1–1000).' },
      { name: 'cursor', type: 'string', description: 'The `nextCursor` of the previous page.' },
    ],
    success: { status: 200, description: '`{runs, nextCursor}`' },
  },
  {
    method: 'post',
    path: `${T}/runs/status`,
    summary: 'The statuses of up to 1000 runs by id, in one request',
    tag: 'runs',
    auth: 'tenant',
    body: { name: 'RunStatusesRequest', schema: RunStatusesBody },
    success: { status: 200, description: '`{runs: [{runId, status}]}` (unknown ids are absent)' },
  },
  {
    method: 'get',
    path: `${T}/runs/stream`,
    summary: 'Run-status changes as Server-Sent Events (never wakes the tenant)',
    tag: 'runs',
    auth: 'tenant',
    success: {
      status: 200,
      description: 'Events `status`, `attached`, `detached`, `overflow`.',
      content: 'event-stream',
    },
  },
  {
    method: 'get',
    path: R,
    summary: 'A run with its steps (`runId` may be a unique prefix)',
    tag: 'runs',
    auth: 'tenant',
    success: { status: 200, description: 'The run, and `waitingFor` while it is parked.' },
  },
  {
    method: 'get',
    path: `${R}/steps/{seq}`,
    summary: 'One recorded step with its output',
    tag: 'runs',
    auth: 'tenant',
    success: { status: 200, description: 'The step.' },
  },
  {
    method: 'get',
    path: `${R}/result`,
    summary: 'The run once it ended, or as it is after `waitMs` (a long-poll)',
    tag: 'runs',
    auth: 'tenant',
    query: [
      { name: 'waitMs', type: 'integer', description: 'Longest wait for the end (0–120000).' },
    ],
    success: { status: 200, description: 'The run.' },
  },
  {
    method: 'post',
    path: `${R}/events`,
    summary: 'Send an event to a run',
    tag: 'runs',
    auth: 'tenant',
    body: { name: 'SendEventRequest', schema: SendEventBody },
    success: { status: 202, description: '`{delivered: true}`' },
  },
  {
    method: 'post',
    path: `${R}/cancel`,
    summary: 'Cancel a run',
    tag: 'runs',
    auth: 'tenant',
    success: { status: 200, description: 'The run.' },
  },
  {
    method: 'post',
    path: `${R}/resume`,
    summary: 'Resume a failed or cancelled run from its last recorded step',
    tag: 'runs',
    auth: 'tenant',
    success: { status: 200, description: 'The run.' },
  },
  {
    method: 'post',
    path: `${R}/fork`,
    summary: 'A new run that reuses the steps before `fromStep`',
    tag: 'runs',
    auth: 'tenant',
    body: { name: 'ForkRunRequest', schema: ForkRunBody },
    success: { status: 201, description: '`{runId}`' },
  },
  {
    method: 'get',
    path: `${T}/workflows`,
    summary: "The app's workflows (with input schemas), queues and schedules",
    tag: 'runs',
    auth: 'tenant',
    success: { status: 200, description: '`{workflows, queues, schedules}`' },
  },

  {
    method: 'post',
    path: `${T}/schedules`,
    summary: 'Create a cron schedule (checked by the engine)',
    tag: 'schedules',
    auth: 'tenant',
    body: { name: 'CreateScheduleRequest', schema: CreateScheduleBody },
    success: { status: 201, description: 'The schedule.' },
  },
  {
    method: 'get',
    path: `${T}/schedules`,
    summary: "The tenant's schedules",
    tag: 'schedules',
    auth: 'tenant',
    success: { status: 200, description: '`{schedules}`' },
  },
  {
    method: 'get',
    path: S,
    summary: 'A schedule',
    tag: 'schedules',
    auth: 'tenant',
    success: { status: 200, description: 'The schedule.' },
  },
  {
    method: 'delete',
    path: S,
    summary: 'Delete a schedule',
    tag: 'schedules',
    auth: 'tenant',
    success: { status: 200, description: '`{deleted: true}`' },
  },
  {
    method: 'post',
    path: `${S}/pause`,
    summary: 'Pause a schedule',
    tag: 'schedules',
    auth: 'tenant',
    success: { status: 200, description: 'The schedule.' },
  },
  {
    method: 'post',
    path: `${S}/resume`,
    summary: 'Resume a schedule',
    tag: 'schedules',
    auth: 'tenant',
    success: { status: 200, description: 'The schedule.' },
  },
  {
    method: 'post',
    path: `${S}/trigger`,
    summary: 'Start one run of the schedule now',
    tag: 'schedules',
    auth: 'tenant',
    body: { name: 'TriggerScheduleRequest', schema: TriggerScheduleBody },
    success: { status: 202, description: '`{runId}`' },
  },
  {
    method: 'post',
    path: `${S}/backfill`,
    summary: 'One run per fire time in [from, to), all or none (checked by the engine)',
    tag: 'schedules',
    auth: 'tenant',
    body: { name: 'BackfillScheduleRequest', schema: BackfillScheduleBody },
    success: { status: 202, description: '`{runIds}`' },
  },

  {
    method: 'post',
    path: `${T}/query`,
    summary: "Read-only SQL on the tenant's database",
    tag: 'data',
    auth: 'tenant',
    body: { name: 'QueryRequest', schema: QueryBody },
    success: { status: 200, description: '`{columns, rows, truncated}`' },
  },
  {
    method: 'get',
    path: `${T}/snapshot`,
    summary: "A consistent copy of the tenant's SQLite file",
    tag: 'data',
    auth: 'tenant',
    success: { status: 200, description: 'The SQLite file.', content: 'sqlite' },
  },
]
