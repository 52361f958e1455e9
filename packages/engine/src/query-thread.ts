import { Worker } from 'node:worker_threads'
import { EngineError, type EngineErrorCode } from './engine-error.js'
import type { QueryRequest, QueryResult } from './query.js'

/** A query thread with nothing to do stops after this long; the next query starts it again. */
export const DEFAULT_QUERY_THREAD_IDLE_MS = 30_000
/** Heap cap of the query thread: a huge result set ends the thread, never the worker. */
export const QUERY_THREAD_MAX_HEAP_MB = 64
/**
 * Queries of one tenant waiting or running at once; more are refused with `QUERY_BUSY` (429)
 * at once: the thread answers one at a time, each up to the time limit, so a flood would
 * otherwise hold requests and memory without bound (a dashboard sends a few at a time).
 */
export const DEFAULT_MAX_QUEUED_QUERIES = 64

/** What the thread is started with. */
export interface QueryThreadData {
  /** URL of the module the boot file imports (query-thread-entry). */
  readonly entry: string
  readonly path: string
  readonly timeoutMs: number
}

/** One query sent to the thread. */
export interface QueryThreadRequest {
  readonly id: number
  readonly request: QueryRequest
}

/** The thread's answer to one {@link QueryThreadRequest}. */
export type QueryThreadReply =
  | { readonly id: number; readonly result: QueryResult; readonly error?: undefined }
  | { readonly id: number; readonly error: { readonly code: string; readonly message: string } }

/** Codes the thread may answer with; anything else becomes `QUERY_FAILED`. */
const THREAD_CODES: ReadonlySet<string> = new Set<EngineErrorCode>([
  'QUERY_NOT_READ_ONLY',
  'QUERY_NOT_ALLOWED',
  'QUERY_TIMEOUT',
  'QUERY_TOO_LARGE',
  'QUERY_FAILED',
  'INVALID_INPUT',
])

interface Pending {
  resolve(result: QueryResult): void
  reject(error: EngineError): void
}

/**
 * Runs tenant queries on a `worker_threads` thread with its own read-only, sandboxed
 * connection (see query.ts), so that a query computing for seconds never blocks the event
 * loop that heartbeats the lease and runs workflows (issue 9). The thread starts with the
 * first query, answers queries one at a time in order, stops after `idleMs` without work
 * and on {@link close}. A thread that dies (out of heap, a native fault) fails only the
 * queries it held; the next query starts a new one.
 */
export class QueryThread {
  readonly #path: string
  readonly #timeoutMs: number
  readonly #idleMs: number
  readonly #maxQueued: number
  readonly #pending = new Map<number, Pending>()
  #worker: Worker | null = null
  #nextId = 1
  #idleTimer: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: { path: string; timeoutMs: number; idleMs?: number; maxQueued?: number }) {
    this.#path = options.path
    this.#timeoutMs = options.timeoutMs
    this.#idleMs = options.idleMs ?? DEFAULT_QUERY_THREAD_IDLE_MS
    this.#maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED_QUERIES
  }

  /** True while the thread exists (for tests and metrics). */
  get isRunning(): boolean {
    return this.#worker !== null
  }

  /** Runs `request` on the thread; `QUERY_BUSY` while {@link DEFAULT_MAX_QUEUED_QUERIES} wait. */
  run(request: QueryRequest): Promise<QueryResult> {
    if (this.#closed) return Promise.reject(new EngineError('ENGINE_CLOSED', 'query: the engine is closed'))
    if (this.#pending.size >= this.#maxQueued) {
      return Promise.reject(
        new EngineError(
          'QUERY_BUSY',
          `query: ${this.#pending.size} queries of this tenant are already waiting or running (one at a time, each up to ${this.#timeoutMs} ms); retry once they have answered`,
        ),
      )
    }
    clearTimeout(this.#idleTimer)
    const worker = (this.#worker ??= this.#start())
    const id = this.#nextId++
    return new Promise<QueryResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      // Referenced while a query waits, so a script awaiting it does not exit under it.
      worker.ref()
      worker.postMessage({ id, request } satisfies QueryThreadRequest)
    })
  }

  /** Stops the thread; queries still waiting fail with `ENGINE_CLOSED` at once. */
  async close(): Promise<void> {
    this.#closed = true
    await this.#stop(new EngineError('ENGINE_CLOSED', 'query: the engine closed before the query ended'))
  }

  #start(): Worker {
    const data: QueryThreadData = {
      entry: new URL(`./query-thread-entry${extensionOf(import.meta.url)}`, import.meta.url).href,
      path: this.#path,
      timeoutMs: this.#timeoutMs,
    }
    const worker = new Worker(new URL('./query-thread-boot.mjs', import.meta.url), {
      workerData: data,
      resourceLimits: { maxOldGenerationSizeMb: QUERY_THREAD_MAX_HEAP_MB },
      // The thread inherits no flags: the worker's own heap cap is not the thread's.
      execArgv: [],
    })
    worker.on('message', (reply: QueryThreadReply) => this.#answer(reply))
    worker.on('error', (error) => void this.#lost(worker, error))
    worker.on('exit', (code) => void this.#lost(worker, new Error(`exited with code ${code}`)))
    return worker
  }

  #answer(reply: QueryThreadReply): void {
    const pending = this.#pending.get(reply.id)
    if (pending === undefined) return
    this.#pending.delete(reply.id)
    if (reply.error === undefined) pending.resolve(reply.result)
    else {
      const code = THREAD_CODES.has(reply.error.code) ? (reply.error.code as EngineErrorCode) : 'QUERY_FAILED'
      pending.reject(new EngineError(code, reply.error.message))
    }
    if (this.#pending.size === 0) this.#idle()
  }

  #idle(): void {
    this.#worker?.unref()
    clearTimeout(this.#idleTimer)
    this.#idleTimer = setTimeout(() => {
      if (this.#pending.size === 0) void this.#stop(undefined)
    }, this.#idleMs)
    this.#idleTimer.unref()
  }

  /** The thread ended on its own: fail what it held; the next query starts a new one. */
  async #lost(worker: Worker, error: Error): Promise<void> {
    if (this.#worker !== worker) return
    this.#worker = null
    this.#failPending(new EngineError('QUERY_FAILED', `query: the query thread stopped: ${error.message}`, { cause: error }))
  }

  /**
   * Fails what waits and ends the thread without waiting for it: a thread inside a long
   * SQLite call ends only once that call returns, at the latest at the time limit, and
   * closing an engine must not wait for that (its read-only connection cannot checkpoint).
   */
  async #stop(error: EngineError | undefined): Promise<void> {
    clearTimeout(this.#idleTimer)
    const worker = this.#worker
    this.#worker = null
    if (error !== undefined) this.#failPending(error)
    if (worker === null) return
    worker.unref()
    void worker.terminate()
  }

  #failPending(error: EngineError): void {
    for (const pending of this.#pending.values()) pending.reject(error)
    this.#pending.clear()
  }
}

/** `.ts` when the engine runs from its source (tsx, vitest), `.js` once compiled. */
function extensionOf(url: string): string {
  return url.endsWith('.ts') ? '.ts' : '.js'
}
