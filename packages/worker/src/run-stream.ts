import type { RunStatus } from '@litecell/engine'
import { isFinalStatus } from './final-status-ledger.js'

/** A comment line this often keeps idle connections (and proxies between) open. */
export const STREAM_HEARTBEAT_MS = 15_000
/** Events queued for one subscriber within one turn of the event loop before it must resync. */
export const MAX_QUEUED_EVENTS = 10_000
/** Writes a subscriber may leave unread before it must resync. */
export const MAX_UNREAD_WRITES = 1_000
/** How long a browser waits before it reconnects (the SSE `retry` field). */
const RETRY_MS = 2_000

/** One run-status change, as each `status` event's JSON data. */
export interface RunStatusEvent {
  runId: string
  workflow: string
  status: RunStatus
  /** ISO time the worker saw the change (after it was committed). */
  at: string
}

interface Subscriber {
  readonly controller: ReadableStreamDefaultController<Uint8Array>
  /** A replicated tenant's subscriber: final statuses only once confirmed in S3. */
  readonly confirmedFinals: boolean
  queued: string[]
  overflowed: boolean
}

const encoder = new TextEncoder()

/**
 * Server-Sent Events of a tenant's run-status changes, fed by the engine's run-status observer
 * (called after each change is committed). Each subscriber gets `event: attached` first, then
 * one `event: status` per change, and a comment line every {@link STREAM_HEARTBEAT_MS}.
 * Events of one turn of the event loop go out as one write. A subscriber that stops reading
 * ({@link MAX_UNREAD_WRITES} behind) or is flooded ({@link MAX_QUEUED_EVENTS} in one turn)
 * loses events until it catches up, then gets one `event: overflow` (reload, then follow
 * again): memory stays bounded whatever the client does. {@link close} ends every stream: the worker is stopping, and
 * the client (or the control plane) follows the tenant's next worker.
 */
export class RunStatusStream {
  readonly #subscribers = new Set<Subscriber>()
  readonly #tenantId: string
  #flushScheduled = false
  #heartbeat: NodeJS.Timeout | undefined
  #isClosed = false

  constructor(tenantId: string) {
    this.#tenantId = tenantId
  }

  /** Subscribers connected now. */
  get size(): number {
    return this.#subscribers.size
  }

  /**
   * Records a change for every subscriber; costs a set lookup when nobody listens. A final
   * status skips the subscribers that want final statuses only once confirmed in S3: they get
   * it from {@link publishConfirmed}.
   */
  publish(runId: string, workflow: string, status: RunStatus): void {
    this.#publish(runId, workflow, status, isFinalStatus(status) ? 'local' : 'all')
  }

  /** A final status is confirmed in S3: now the replicated subscribers get it. */
  publishConfirmed(runId: string, workflow: string, status: RunStatus): void {
    this.#publish(runId, workflow, status, 'replicated')
  }

  #publish(runId: string, workflow: string, status: RunStatus, to: 'all' | 'local' | 'replicated'): void {
    if (this.#subscribers.size === 0) return
    const frame = `event: status\ndata: ${JSON.stringify({ runId, workflow, status, at: new Date().toISOString() } satisfies RunStatusEvent)}\n\n`
    for (const subscriber of this.#subscribers) {
      if (subscriber.overflowed) continue
      if (to !== 'all' && subscriber.confirmedFinals !== (to === 'replicated')) continue
      subscriber.queued.push(frame)
      if (subscriber.queued.length > MAX_QUEUED_EVENTS) this.#overflow(subscriber)
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      setImmediate(() => this.#flush())
    }
  }

  /**
   * A streaming `text/event-stream` response for one new subscriber; `confirmedFinals` (a
   * replicated tenant) sends final statuses only once they are confirmed in S3.
   */
  response(options: { confirmedFinals?: boolean } = {}): Response {
    let subscriber!: Subscriber
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        subscriber = { controller, confirmedFinals: options.confirmedFinals === true, queued: [], overflowed: false }
        if (this.#isClosed) {
          controller.close()
          return
        }
        controller.enqueue(encoder.encode(`retry: ${RETRY_MS}\nevent: attached\ndata: ${JSON.stringify({ tenantId: this.#tenantId })}\n\n`))
        this.#subscribers.add(subscriber)
        this.#heartbeat ??= setInterval(() => this.#beat(), STREAM_HEARTBEAT_MS).unref()
      },
      cancel: () => this.#remove(subscriber),
    })
    return new Response(body, {
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      },
    })
  }

  /** Ends every stream and refuses new ones (the worker is stopping). */
  close(): void {
    this.#isClosed = true
    this.#flush()
    for (const subscriber of [...this.#subscribers]) {
      this.#remove(subscriber)
      try {
        subscriber.controller.close()
      } catch {
        // already closed by the client
      }
    }
  }

  #flush(): void {
    this.#flushScheduled = false
    for (const subscriber of this.#subscribers) {
      const unread = -(subscriber.controller.desiredSize ?? 0)
      if (subscriber.overflowed) {
        if (unread > 0) continue
        subscriber.overflowed = false
        this.#send(subscriber, 'event: overflow\ndata: {}\n\n')
      } else if (subscriber.queued.length > 0) {
        if (unread > MAX_UNREAD_WRITES) this.#overflow(subscriber)
        else this.#send(subscriber, subscriber.queued.join(''))
        subscriber.queued = []
      }
    }
  }

  #overflow(subscriber: Subscriber): void {
    subscriber.overflowed = true
    subscriber.queued = []
  }

  #beat(): void {
    this.#flush()
    for (const subscriber of this.#subscribers) this.#send(subscriber, ': keep-alive\n\n')
  }

  #send(subscriber: Subscriber, text: string): void {
    try {
      subscriber.controller.enqueue(encoder.encode(text))
    } catch {
      this.#remove(subscriber)
    }
  }

  #remove(subscriber: Subscriber): void {
    this.#subscribers.delete(subscriber)
    if (this.#subscribers.size === 0 && this.#heartbeat) {
      clearInterval(this.#heartbeat)
      this.#heartbeat = undefined
    }
  }
}
