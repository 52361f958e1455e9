/**
 * The litecell API client: one typed method per route of the API, then the generic requests
 * (`get`, `post`, `send`, …) and the one place requests are sent and errors read. Over 300
 * lines on purpose: it is the API's one typed surface, and spreading the routes over files
 * would make "which routes does the client cover" a search instead of a read.
 */
import { apiPath, withQuery, type QueryParams } from './api-path.js'
import { bufferedBody } from './buffered-body.js'
import { defaultFetch, type Fetch } from './default-fetch.js'
import type {
  AppDescription,
  Caller,
  CreatedTenant,
  CreateTenantRequest,
  FleetSummary,
  ForkTenantRequest,
  JsonValue,
  ListRunsQuery,
  QueryResult,
  RunDetail,
  RunPage,
  RunStatusEntry,
  StartedRun,
  StartedRuns,
  StartRunRequest,
  StepDetail,
  TenantDetail,
  TenantPage,
  TenantState,
  TenantView,
  UpdateTenantRequest,
} from './api-types.js'
import { LitecellError } from './litecell-error.js'
import {
  isRetryableAnswer,
  pause,
  retryAfterMs,
  retryDelayMs,
  type ResponseRetryOptions,
} from './response-retry.js'
import {
  readRunEvents,
  watchRunStatus,
  type RunStatusChange,
  type RunStreamEvent,
} from './run-events.js'
import { waitForRun, type WaitOutcome } from './run-waiter.js'
import type { BackfillRequest, CreateScheduleRequest, ScheduleView } from './schedule-types.js'

/** Where and as whom the client talks to the litecell API. */
export interface LitecellClientOptions {
  /** Base URL without a trailing path, e.g. `http://127.0.0.1:8787`. */
  readonly baseUrl: string
  /** Bearer token (admin or tenant); requests go without one if absent. */
  readonly token?: string | undefined
  /**
   * How requests are sent; in-process tests pass an app's `request`.
   * @default `nodeFetch` in Node (over `node:http`), the global `fetch` elsewhere
   */
  readonly fetch?: Fetch
  /** Longest one request waits for its answer. @default no limit */
  readonly timeoutMs?: number
  /**
   * Retries of answers that say "busy" (429, a 503 other than a failed tenant), after the
   * server's `Retry-After`: reads and idempotent writes only. `false`: none.
   * @default { attempts: 4 }
   */
  readonly retry?: ResponseRetryOptions | false
}

/** How one request is sent. */
export interface RequestOptions {
  /** A JSON body. */
  readonly body?: unknown
  /** A body sent as is (malformed JSON, for tests of the API's refusals). */
  readonly rawBody?: string
  readonly query?: QueryParams
  /** Extra request headers (`accept` for a stream or a download). */
  readonly headers?: Readonly<Record<string, string>>
  /** Cancels the request. */
  readonly signal?: AbortSignal
  readonly timeoutMs?: number
  /**
   * Safe to send again (a run start with its idempotency key): a 429/503 answer is retried
   * like a read's. @default true for GET and HEAD, false otherwise
   */
  readonly idempotent?: boolean
}

/** An answer as {@link LitecellClient.send} returns it, whatever its status. */
export interface ApiReply<T = unknown> {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** The parsed JSON body, or undefined if the body is not JSON. */
  readonly body: T
}

/**
 * The typed client of the litecell HTTP API (`../shared/API.md`), on `fetch` only, so it runs
 * in Node and in a browser. Every method returns the parsed body of a 2xx answer or throws a
 * {@link LitecellError} carrying the API's `code` and status; {@link send} returns any answer.
 *
 * @example
 * const client = new LitecellClient({ baseUrl: 'http://127.0.0.1:8787', token })
 * const { runId } = await client.startRun('acme', { workflow: 'train', input: { lr: 0.1 } })
 * const run = await client.runResult('acme', runId, { waitMs: 30_000 })
 */
export class LitecellClient {
  readonly #baseUrl: string
  readonly #token: string | undefined
  readonly #fetch: Fetch
  readonly #timeoutMs: number | undefined
  readonly #retry: ResponseRetryOptions | false

  constructor(options: LitecellClientOptions) {
    if (typeof options.baseUrl !== 'string' || !/^https?:\/\//.test(options.baseUrl)) {
      throw new TypeError(
        `Expected the API URL to start with http:// or https://, got \`${String(options.baseUrl)}\``,
      )
    }
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.#token = options.token
    this.#fetch = options.fetch ?? defaultFetch()
    this.#timeoutMs = options.timeoutMs
    this.#retry = options.retry ?? {}
  }

  /** The base URL requests go to. */
  get baseUrl(): string {
    return this.#baseUrl
  }

  /** The same API as another caller (`undefined`: no token). */
  withToken(token: string | undefined): LitecellClient {
    return new LitecellClient({
      baseUrl: this.#baseUrl,
      token,
      fetch: this.#fetch,
      retry: this.#retry,
      ...(this.#timeoutMs !== undefined ? { timeoutMs: this.#timeoutMs } : {}),
    })
  }

  // ---- tenants ------------------------------------------------------------------------

  createTenant(request: CreateTenantRequest = {}): Promise<CreatedTenant> {
    return this.post(apiPath('tenants'), request)
  }

  /** Every tenant, oldest first. */
  async listTenants(): Promise<TenantView[]> {
    return (await this.get<TenantPage>(apiPath('tenants'))).tenants
  }

  /** A page of tenants, oldest first, optionally of one state or with given labels. */
  listTenantPage(
    query: {
      limit?: number
      cursor?: string
      state?: TenantState
      labels?: Record<string, string>
    } = {},
  ): Promise<TenantPage> {
    const labels = Object.entries(query.labels ?? {}).map(([key, value]) => [`label.${key}`, value])
    return this.get(apiPath('tenants'), {
      limit: query.limit,
      cursor: query.cursor,
      state: query.state,
      ...Object.fromEntries(labels),
    })
  }

  getTenant(id: string): Promise<TenantDetail> {
    return this.get(apiPath('tenants', id))
  }

  /** Stops the tenant's worker after a verified final sync; resolves once it is hibernated. */
  hibernateTenant(id: string): Promise<TenantView> {
    return this.post(apiPath('tenants', id, 'hibernate'))
  }

  wakeTenant(id: string): Promise<TenantView> {
    return this.post(apiPath('tenants', id, 'wake'))
  }

  /**
   * Switches the tenant to app `app` (default: its own, to run its changed code): hibernates
   * it at its next durable point, switches, wakes it (admin only).
   */
  upgradeTenant(id: string, request: { app?: string } = {}): Promise<TenantView> {
    return this.post(apiPath('tenants', id, 'upgrade'), request)
  }

  forkTenant(id: string, request: ForkTenantRequest): Promise<CreatedTenant> {
    return this.post(apiPath('tenants', id, 'fork'), request)
  }

  /** Changes a tenant's labels or durability (admin); answers once the change is in S3. */
  updateTenant(id: string, settings: UpdateTenantRequest): Promise<TenantView> {
    return this.request('PATCH', apiPath('tenants', id), { body: settings })
  }

  deleteTenant(id: string): Promise<{ id: string; deleted: boolean }> {
    return this.delete(apiPath('tenants', id))
  }

  /** A consistent copy of the tenant's SQLite file, as a streamed response. */
  snapshot(id: string, options: { signal?: AbortSignal } = {}): Promise<Response> {
    return this.fetch('GET', apiPath('tenants', id, 'snapshot'), options)
  }

  /**
   * Read-only SQL on the tenant's database. Safe to repeat, so a busy answer (429
   * `QUERY_BUSY` while the tenant's queries queue, 503 while its worker is replaced) is retried.
   */
  query(
    id: string,
    sql: string,
    args?: JsonValue[] | Record<string, JsonValue>,
  ): Promise<QueryResult> {
    return this.request('POST', apiPath('tenants', id, 'query'), {
      body: args === undefined ? { sql } : { sql, args },
      idempotent: true,
    })
  }

  /** The workflows, queues and declared schedules of the tenant's app (wakes the tenant). */
  listWorkflows(tenantId: string): Promise<AppDescription> {
    return this.get(apiPath('tenants', tenantId, 'workflows'))
  }

  /**
   * The tenant's worker log as a streamed text response (admin): its last `lines` lines
   * (default 100), then, with `follow`, lines as they are written until `signal` aborts.
   */
  logs(
    tenantId: string,
    options: { lines?: number; follow?: boolean; signal?: AbortSignal } = {},
  ): Promise<Response> {
    return this.fetch('GET', apiPath('tenants', tenantId, 'logs'), {
      query: { lines: options.lines, follow: options.follow ? 'true' : undefined },
      ...(options.signal ? { signal: options.signal } : {}),
    })
  }

  // ---- runs ---------------------------------------------------------------------------

  /**
   * Starts a run. Without an `idempotencyKey` the client makes one, so its own retries of a
   * busy answer (429/503) can never start the run twice.
   */
  startRun(tenantId: string, request: StartRunRequest): Promise<StartedRun> {
    return this.request('POST', apiPath('tenants', tenantId, 'runs'), {
      body: withIdempotencyKey(request),
      idempotent: true,
    })
  }

  /** Starts many runs in one commit (each without a key gets one, as in {@link startRun}). */
  startRuns(tenantId: string, runs: readonly StartRunRequest[]): Promise<StartedRuns> {
    return this.request('POST', apiPath('tenants', tenantId, 'runs', 'batch'), {
      body: { runs: runs.map(withIdempotencyKey) },
      idempotent: true,
    })
  }

  /**
   * Waits for a run to end (long-polls `…/result`, retrying a busy tenant), at most
   * `timeoutMs` (forever without it); `timedOut` says whether it ended.
   */
  waitForResult(
    tenantId: string,
    runId: string,
    options: { timeoutMs?: number } = {},
  ): Promise<WaitOutcome> {
    return waitForRun(this, tenantId, runId, options)
  }

  /**
   * The tenant's run-status changes as they happen (`GET …/runs/stream`), until the stream
   * ends (the tenant was deleted) or `signal` aborts. Watching never wakes the tenant.
   *
   * @example
   * for await (const event of client.runEvents('acme', { signal })) {
   *   if (event.type === 'status') console.log(event.run.runId, event.run.status)
   * }
   */
  async *runEvents(
    tenantId: string,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<RunStreamEvent> {
    const response = await this.fetch('GET', apiPath('tenants', tenantId, 'runs', 'stream'), {
      headers: { accept: 'text/event-stream' },
      ...(options.signal ? { signal: options.signal } : {}),
    })
    yield* readRunEvents(response, options.signal)
  }

  /**
   * One run's status now, then each change, ending after a final status.
   *
   * @example
   * for await (const { status } of client.watchRun('acme', runId)) console.log(status)
   */
  watchRun(
    tenantId: string,
    runId: string,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<RunStatusChange> {
    return watchRunStatus(
      {
        current: async () => {
          const run = await this.getRun(tenantId, runId)
          return { runId: run.runId, workflow: run.workflow, status: run.status, at: run.updatedAt }
        },
        events: (signal) => this.runEvents(tenantId, { signal }),
      },
      options,
    )
  }

  listRuns(tenantId: string, query: ListRunsQuery = {}): Promise<RunPage> {
    const { tags, ...rest } = query
    const params: Record<string, string | number | undefined> = { ...rest }
    for (const [key, value] of Object.entries(tags ?? {})) params[`tag.${key}`] = value
    return this.get(apiPath('tenants', tenantId, 'runs'), params)
  }

  /**
   * The status of each run, in order (at most 1,000 ids, `MAX_STATUS_RUN_IDS`); unknown ids
   * come back as `{ runId, status: null, notFound: true }`.
   */
  async runStatuses(tenantId: string, runIds: readonly string[]): Promise<RunStatusEntry[]> {
    const { runs } = await this.post<{ runs: RunStatusEntry[] }>(
      apiPath('tenants', tenantId, 'runs', 'status'),
      { runIds },
    )
    return runs
  }

  getRun(tenantId: string, runId: string): Promise<RunDetail> {
    return this.get(apiPath('tenants', tenantId, 'runs', runId))
  }

  /** One recorded step of a run, with its output. */
  getStep(tenantId: string, runId: string, seq: number): Promise<StepDetail> {
    return this.get(apiPath('tenants', tenantId, 'runs', runId, 'steps', String(seq)))
  }

  /** The run once it ended, or as it is after `waitMs` (a long-poll, at most 120 s). */
  runResult(
    tenantId: string,
    runId: string,
    options: { waitMs?: number } = {},
  ): Promise<RunDetail> {
    return this.get(apiPath('tenants', tenantId, 'runs', runId, 'result'), {
      waitMs: options.waitMs,
    })
  }

  sendEvent(tenantId: string, runId: string, event: { name: string; payload?: JsonValue }) {
    return this.post<{ delivered: boolean }>(
      apiPath('tenants', tenantId, 'runs', runId, 'events'),
      event,
    )
  }

  cancelRun(tenantId: string, runId: string): Promise<RunDetail> {
    return this.post(apiPath('tenants', tenantId, 'runs', runId, 'cancel'))
  }

  resumeRun(tenantId: string, runId: string): Promise<RunDetail> {
    return this.post(apiPath('tenants', tenantId, 'runs', runId, 'resume'))
  }

  /** A new run that reuses the recorded steps before `fromStep`. */
  forkRun(tenantId: string, runId: string, request: { fromStep: number }) {
    return this.post<{ runId: string }>(
      apiPath('tenants', tenantId, 'runs', runId, 'fork'),
      request,
    )
  }

  // ---- schedules ------------------------------------------------------------------------

  createSchedule(tenantId: string, request: CreateScheduleRequest): Promise<ScheduleView> {
    return this.post(apiPath('tenants', tenantId, 'schedules'), request)
  }

  /** The tenant's schedules, by id. */
  async listSchedules(tenantId: string): Promise<ScheduleView[]> {
    return (
      await this.get<{ schedules: ScheduleView[] }>(apiPath('tenants', tenantId, 'schedules'))
    ).schedules
  }

  getSchedule(tenantId: string, id: string): Promise<ScheduleView> {
    return this.get(apiPath('tenants', tenantId, 'schedules', id))
  }

  deleteSchedule(tenantId: string, id: string): Promise<{ deleted: boolean }> {
    return this.delete(apiPath('tenants', tenantId, 'schedules', id))
  }

  pauseSchedule(tenantId: string, id: string): Promise<ScheduleView> {
    return this.post(apiPath('tenants', tenantId, 'schedules', id, 'pause'))
  }

  /** Fires again from the first fire time after now. */
  resumeSchedule(tenantId: string, id: string): Promise<ScheduleView> {
    return this.post(apiPath('tenants', tenantId, 'schedules', id, 'resume'))
  }

  /** Starts one run of the schedule now. */
  triggerSchedule(
    tenantId: string,
    id: string,
    options: { idempotencyKey?: string } = {},
  ): Promise<{ runId: string }> {
    return this.post(apiPath('tenants', tenantId, 'schedules', id, 'trigger'), options)
  }

  /** A run for every fire time in [from, to) up to now, each once. */
  backfillSchedule(tenantId: string, id: string, range: BackfillRequest): Promise<StartedRuns> {
    return this.post(apiPath('tenants', tenantId, 'schedules', id, 'backfill'), range)
  }

  // ---- operations and transport --------------------------------------------------------

  health(): Promise<{ ok: boolean }> {
    return this.get('/v1/health')
  }

  /** Who this client's token belongs to; 401 for a token nobody was given. */
  whoami(): Promise<Caller> {
    return this.get('/v1/whoami')
  }

  /** The fleet at a glance: workers, tenants by state, recent wakes and hibernations (admin). */
  fleet(): Promise<FleetSummary> {
    return this.get('/v1/fleet')
  }

  /** The Prometheus text exposition (admin token). */
  async metrics(): Promise<string> {
    return (await this.fetch('GET', '/metrics')).text()
  }

  get<T>(path: string, query?: QueryParams): Promise<T> {
    return this.request<T>('GET', path, query ? { query } : {})
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, { body })
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path)
  }

  /** Sends one request and parses the JSON body of its 2xx answer. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.fetch(method, path, options)
    const text = await textOf(response)
    try {
      return (text === '' ? null : JSON.parse(text)) as T
    } catch (err) {
      throw new LitecellError(
        'INVALID_RESPONSE',
        response.status,
        `${method} ${path}: expected JSON from ${this.#baseUrl}, got ${JSON.stringify(text.slice(0, 80))}`,
        { cause: err },
      )
    }
  }

  /** Sends one request and returns its 2xx response unread (a snapshot); errors are thrown. */
  async fetch(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const response = await this.#send(method, path, options)
    if (!response.ok) throw await errorOf(response)
    return response
  }

  /** Sends one request and returns whatever the API answered: for tests of refusals. */
  async send<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiReply<T>> {
    const response = await this.#send(method, path, options)
    const text = await textOf(response)
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
    return { status: response.status, headers: response.headers, text, body: body as T }
  }

  /** Sends a request, retrying a busy answer if the request is safe to repeat. */
  async #send(method: string, path: string, options: RequestOptions): Promise<Response> {
    const retry = this.#retry
    const idempotent = options.idempotent ?? (method === 'GET' || method === 'HEAD')
    const attempts = retry === false || !idempotent ? 1 : Math.max(1, retry.attempts ?? 4)
    for (let attempt = 1; ; attempt += 1) {
      const response = await this.#sendOnce(method, path, options)
      if (attempt >= attempts || retry === false || !(await isRetryableAnswer(response))) {
        return response
      }
      await response.body?.cancel()
      await pause(retryDelayMs(response, attempt, retry), options.signal)
    }
  }

  async #sendOnce(method: string, path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers }
    const body =
      options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body))
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (this.#token) headers.authorization = `Bearer ${this.#token}`
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs
    const timeout = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)
    const signals = [options.signal, timeout].filter((s): s is AbortSignal => s !== undefined)
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0]
    try {
      return await this.#fetch(`${this.#baseUrl}${withQuery(path, options.query)}`, {
        method,
        headers,
        body,
        ...(signal ? { signal } : {}),
      })
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason
      if (timeout?.aborted) {
        throw new LitecellError(
          'TIMEOUT',
          0,
          `${method} ${path}: no answer within ${timeoutMs} ms`,
          {
            cause: err,
            message: `${method} ${path}: no answer from ${this.#baseUrl} within ${timeoutMs} ms`,
          },
        )
      }
      throw connectionError(this.#baseUrl, err)
    }
  }
}

const utf8 = new TextDecoder()

/** The body of an answer as text: its bytes as read by `nodeFetch` if it has them. */
function textOf(response: Response): Promise<string> {
  const bytes = bufferedBody(response)
  return bytes === undefined ? response.text() : Promise.resolve(utf8.decode(bytes))
}

/** The request with an idempotency key: its own, or a new random one. */
function withIdempotencyKey(request: StartRunRequest): StartRunRequest {
  return request.idempotencyKey === undefined
    ? { ...request, idempotencyKey: `lc-client-${globalThis.crypto.randomUUID()}` }
    : request
}

/** The API's error answer as a {@link LitecellError}. */
async function errorOf(response: Response): Promise<LitecellError> {
  const text = await response.text().catch(() => '')
  const retryAfter = retryAfterMs(response)
  const retry = retryAfter === undefined ? {} : { retryAfterMs: retryAfter }
  try {
    const body = JSON.parse(text) as { error?: Record<string, unknown> }
    const error = body.error
    if (typeof error?.code === 'string') {
      const { code, message, ...details } = error
      return new LitecellError(code, response.status, String(message ?? ''), { details, ...retry })
    }
  } catch {
    // Not the API's error shape (a proxy in between?): report the status line instead.
  }
  const detail =
    text.trim().split('\n')[0]?.slice(0, 200) || response.statusText || 'request failed'
  return new LitecellError(`HTTP_${response.status}`, response.status, detail, retry)
}

function connectionError(baseUrl: string, err: unknown): LitecellError {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause
  const code = typeof cause?.code === 'string' ? cause.code : undefined
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : (code ?? String(cause?.message ?? (err as Error).message))
  const detail = `cannot reach ${baseUrl} (${reason})`
  return new LitecellError('CONNECTION_FAILED', 0, detail, { cause: err, message: detail })
}
