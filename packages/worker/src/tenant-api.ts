import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { Hono, type Context, type Next } from 'hono'
import {
  RUN_STATUSES,
  type Engine,
  type JsonValue,
  type RunStatus,
  type StartRequest,
} from '@litecell/engine'
import {
  ForkRunBody,
  RunWriteBody,
  HIBERNATE_PATH,
  QueryBody,
  RunStatusesBody,
  SYNC_POINT_PATH,
  SendEventBody,
  StartRunBody,
  StartRunsBody,
  WORKER_SECRET_HEADER,
  describeValue,
  errorResponse,
  hashSecret,
  matchesHash,
  optionalInteger,
  parseBody,
  readJsonObject,
  type StartRunFields,
  type SyncPoint,
  requestHeader,
} from '@litecell/protocol'
import { replicatedAcks, tenantDurability, type Replication } from './replicated-ack.js'
import type { RunStatusStream } from './run-stream.js'
import { addScheduleRoutes } from './schedule-routes.js'
import { traceWorkerRequests } from './tracing.js'
import { testFaults } from './test-faults.js'
import { WorkerError } from './worker-error.js'

/** Longest a `result?waitMs=` long-poll may wait. */
export const MAX_WAIT_MS = 120_000
/** Longest a hand-over request (`hibernate?ifIdle=1&waitMs=`) waits for the worker to go idle. */
export const MAX_HAND_OVER_WAIT_MS = 10_000
/** How often a waiting hand-over looks at the engine (in memory first, then one small query). */
const HAND_OVER_CHECK_MS = 20

/** What the tenant API needs from the worker that hosts it. */
export interface TenantApiOptions {
  readonly tenantId: string
  readonly engine: Engine
  readonly workerSecret: string
  /** True once the worker began to stop: new requests are refused with 503. */
  readonly isStopping: () => boolean
  /** A folder for temporary files (snapshots) on the tenant's disk. */
  readonly scratchDir: string
  /** Hibernates the worker; resolves with its exit code once the files are safe and gone. */
  readonly hibernate: () => Promise<number>
  /**
   * Whether the worker could hand its slot over now: no run executing, no request in flight,
   * no timer due (`POST hibernate?ifIdle=1` hibernates only then). Absent: never idle.
   */
  readonly isIdle?: () => Promise<boolean>
  /** Makes the replica current without stopping; names the time a restore must ask for. */
  readonly syncPoint: () => Promise<SyncPoint>
  /** Called around every request, so idle detection sees in-flight requests. */
  readonly onRequest?: (delta: 1 | -1) => void
  /** Run-status changes for `GET /runs/stream` (503 without it). */
  readonly runStream?: RunStatusStream
  /** Replicated acknowledgements (issue 11); without it every answer is `local`. */
  readonly replication?: Replication
}

/**
 * The tenant's run, query and snapshot routes, served by its worker on loopback and reached
 * only through the control plane (which authenticates the client and adds the worker secret).
 */
export function createTenantApi(options: TenantApiOptions): Hono {
  const { engine, tenantId } = options
  const app = new Hono()
  const secretHash = hashSecret(options.workerSecret)
  const faults = testFaults(options.scratchDir)

  app.onError((err, context) => errorResponse(context, err))
  app.notFound((context) => errorResponse(context, new WorkerError('NOT_FOUND', 'no such route')))

  app.use('*', traceWorkerRequests())
  app.use('*', async function workerSecret(context, next) {
    if (!matchesHash(requestHeader(context, WORKER_SECRET_HEADER), secretHash)) {
      throw new WorkerError('UNAUTHENTICATED', 'missing or wrong worker secret')
    }
    await next()
  })

  // Before the stopping gate: a second hibernate request joins the one under way.
  app.post(HIBERNATE_PATH, async (context) => {
    if (context.req.query('ifIdle') !== undefined) {
      // A hand-over: hibernate as soon as idle within `waitMs`, and answer whether the
      // hibernation began (the exit tells the rest).
      const waitMs =
        optionalInteger(context.req.query('waitMs'), 'waitMs', 0, MAX_HAND_OVER_WAIT_MS) ?? 0
      const idle = await untilIdle(options, waitMs)
      if (idle) void options.hibernate()
      return context.json({ hibernating: idle })
    }
    const exitCode = await options.hibernate()
    return exitCode === 0
      ? context.json({ hibernated: true })
      : context.json(
          {
            error: {
              code: 'REPLICA_NOT_VERIFIED',
              message: `hibernate tenant ${tenantId} failed; local files kept, see the worker log`,
            },
          },
          503,
        )
  })

  app.use(SYNC_POINT_PATH, stoppingGate)
  app.use('/v1/*', stoppingGate)

  app.post(SYNC_POINT_PATH, async (context) => context.json(await options.syncPoint()))

  async function stoppingGate(context: Context, next: Next): Promise<void> {
    if (options.isStopping()) {
      throw new WorkerError('WORKER_STOPPING', `tenant ${tenantId} is stopping; retry shortly`)
    }
    options.onRequest?.(1)
    try {
      await next()
    } finally {
      options.onRequest?.(-1)
    }
  }

  const tenant = app.basePath(`/v1/tenants/${tenantId}`)
  for (const path of ['/runs', '/runs/*', '/schedules', '/schedules/*']) {
    tenant.use(path, replicatedAcks(options.replication))
  }
  // A run id may be given by a unique prefix of it, as people copy ids (AMBIGUOUS_RUN_ID if
  // it names several runs).
  const runIdOf = (context: Context) => engine.resolveRunId(context.req.param('runId') ?? '')

  tenant.post('/runs', async (context) => {
    const request = toStartRequest(parseBody(StartRunBody, await readJsonObject(context)))
    const { runId, status } = await engine.start(request.workflow, request.input, request)
    faults.afterStartCommitted(runId)
    return context.json({ runId, status }, 202)
  })

  tenant.post('/runs/batch', async (context) => {
    const { runs } = parseBody(StartRunsBody, await readJsonObject(context))
    return context.json(await engine.startMany(runs.map(toStartRequest)), 202)
  })

  tenant.get('/runs', async (context) => {
    const status = context.req.query('status')
    if (status !== undefined && !RUN_STATUSES.includes(status as RunStatus)) {
      throw new WorkerError(
        'BAD_REQUEST',
        `Expected \`status\` to be one of ${RUN_STATUSES.join(', ')}, got ${describeValue(status)}`,
      )
    }
    const page = await engine.list({
      status: status as RunStatus | undefined,
      workflow: context.req.query('workflow') || undefined,
      tags: tagsOf(context.req.queries()),
      limit: optionalInteger(context.req.query('limit'), 'limit', 1, 1000),
      cursor: context.req.query('cursor') || undefined,
    })
    return context.json(page)
  })

  tenant.post('/runs/status', async (context) => {
    const { runIds } = parseBody(RunStatusesBody, await readJsonObject(context))
    return context.json({ runs: await engine.statuses(runIds as string[]) })
  })

  // An open stream does not count as a request in flight: watching a tenant keeps it no
  // longer awake than it would be otherwise.
  tenant.get('/runs/stream', (context) => {
    if (!options.runStream) throw new WorkerError('WORKER_STOPPING', `tenant ${tenantId}: no run stream`)
    const confirmedFinals = options.replication !== undefined && tenantDurability(context) === 'replicated'
    return options.runStream.response({ confirmedFinals })
  })

  tenant.get('/runs/:runId/steps/:seq', async (context) => {
    const seq = optionalInteger(
      context.req.param('seq'),
      'seq',
      1,
      Number.MAX_SAFE_INTEGER,
    ) as number
    return context.json(await engine.step(runIdOf(context), seq))
  })

  tenant.get('/runs/:runId', async (context) => context.json(await engine.get(runIdOf(context))))

  tenant.get('/runs/:runId/result', async (context) => {
    const waitMs = optionalInteger(context.req.query('waitMs'), 'waitMs', 0, MAX_WAIT_MS) ?? 0
    return context.json(await engine.result(runIdOf(context), { waitMs }))
  })

  tenant.post('/runs/:runId/events', async (context) => {
    const { name, payload } = parseBody(SendEventBody, await readJsonObject(context))
    await engine.sendEvent(runIdOf(context), name, (payload ?? null) as JsonValue)
    return context.json({ delivered: true }, 202)
  })

  // Their body is only a `durability` (replicatedAcks honours it); checked here like every
  // run write's, before anything is written.
  tenant.post('/runs/:runId/cancel', async (context) => {
    parseBody(RunWriteBody, await readJsonObject(context))
    return context.json(await engine.cancel(runIdOf(context)))
  })

  tenant.post('/runs/:runId/resume', async (context) => {
    parseBody(RunWriteBody, await readJsonObject(context))
    return context.json(await engine.resume(runIdOf(context)))
  })

  tenant.post('/runs/:runId/fork', async (context) => {
    const { fromStep } = parseBody(ForkRunBody, await readJsonObject(context))
    return context.json(await engine.fork(runIdOf(context), { fromStep }), 201)
  })

  tenant.get('/workflows', (context) => context.json(engine.describe()))
  addScheduleRoutes(tenant, engine)

  tenant.post('/query', async (context) => {
    const { sql, args } = parseBody(QueryBody, await readJsonObject(context))
    const result = await engine.query(
      sql,
      args as JsonValue[] | Record<string, JsonValue> | undefined,
    )
    return context.json(result)
  })

  tenant.get('/snapshot', async (context) => {
    const path = join(options.scratchDir, `snapshot-${process.hrtime.bigint()}.db`)
    await engine.snapshot(path)
    const stream = createReadStream(path)
    stream.once('close', () => void rm(path, { force: true }))
    return new Response(Readable.toWeb(stream) as ReadableStream, {
      headers: {
        'content-type': 'application/vnd.sqlite3',
        'content-disposition': `attachment; filename="${tenantId}.db"`,
      },
    })
  })

  return app
}

/** Start options the engine validates itself (its messages quote the value and the limits). */
const ENGINE_CHECKED_OPTIONS = [
  'priority',
  'deduplicationId',
  'partitionKey',
  'tags',
  'timeoutMs',
  'debounce',
] as const

/** A start body, checked by {@link StartRunBody}, as the engine's start request. */
function toStartRequest(body: StartRunFields): StartRequest {
  const request: StartRequest = {
    workflow: body.workflow,
    input: (body.input ?? null) as JsonValue,
  }
  if (body.idempotencyKey !== undefined) request.idempotencyKey = body.idempotencyKey
  if (body.queue !== undefined) request.queue = body.queue
  const options = request as unknown as Record<string, unknown>
  for (const field of ENGINE_CHECKED_OPTIONS) {
    if (body[field] !== undefined) options[field] = body[field]
  }
  return request
}

/** Whether the worker is (or within `waitMs` becomes) idle, or is stopping already. */
async function untilIdle(options: TenantApiOptions, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs
  for (;;) {
    if (options.isStopping() || ((await options.isIdle?.()) ?? false)) return true
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, HAND_OVER_CHECK_MS))
  }
}

/** Prefix of the query parameters that filter runs by tag: `tag.lr=0.1`. */
const TAG_PARAMETER = 'tag.'

/**
 * The `tag.<key>=<value>` parameters of a list request, AND-ed; the engine validates keys and
 * values. A key given twice is refused: no run has two values of one tag.
 */
function tagsOf(queries: Record<string, string[]>): Record<string, string> | undefined {
  let tags: Record<string, string> | undefined
  for (const [name, values] of Object.entries(queries)) {
    if (!name.startsWith(TAG_PARAMETER)) continue
    const key = name.slice(TAG_PARAMETER.length)
    if (values.length !== 1) {
      throw new WorkerError(
        'BAD_REQUEST',
        `Expected one \`${name}\` parameter, got ${values.length} (a run has one value per tag; repeat different tags to AND them)`,
      )
    }
    tags ??= {}
    tags[key] = values[0] as string
  }
  return tags
}
