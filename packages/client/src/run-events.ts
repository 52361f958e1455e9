import { createParser } from 'eventsource-parser'
import { isFinished, type RunStatus, type RunStatusEvent } from './api-types.js'

/**
 * One event of `GET /v1/tenants/:id/runs/stream`: a run's status changed (`status`), the stream
 * follows a worker now (`attached`: reload what you show, changes between two workers are not
 * replayed), the tenant hibernated (`detached`), or events were dropped because the reader fell
 * behind (`overflow`: reload).
 */
export type RunStreamEvent =
  | { readonly type: 'status'; readonly run: RunStatusEvent }
  | { readonly type: 'attached' | 'detached' | 'overflow' }

/** Reads the Server-Sent Events of a run stream response until it ends or `signal` aborts. */
export async function* readRunEvents(
  response: Response,
  signal?: AbortSignal,
): AsyncGenerator<RunStreamEvent> {
  if (!response.body) return
  const queue: RunStreamEvent[] = []
  const parser = createParser({
    onEvent(message) {
      if (message.event === 'status') {
        queue.push({ type: 'status', run: JSON.parse(message.data) as RunStatusEvent })
      } else if (
        message.event === 'attached' ||
        message.event === 'detached' ||
        message.event === 'overflow'
      ) {
        queue.push({ type: message.event })
      }
    },
  })
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  const stop = () => void reader.cancel().catch(() => undefined)
  signal?.addEventListener('abort', stop, { once: true })
  try {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!
      if (signal?.aborted) return
      const { done, value } = await reader.read().catch((err: unknown) => {
        if (signal?.aborted) return { done: true as const, value: undefined }
        throw err
      })
      if (done) return
      parser.feed(value)
    }
  } finally {
    signal?.removeEventListener('abort', stop)
    stop()
  }
}

/** A run's status as {@link watchRunStatus} reports it. */
export interface RunStatusChange {
  readonly runId: string
  readonly workflow: string
  readonly status: RunStatus
  /** ISO time the change was seen (the run's `updatedAt` when read directly). */
  readonly at: string
}

/** What {@link watchRunStatus} needs: the run as it is, and the tenant's run stream. */
export interface RunStatusSource {
  current(): Promise<RunStatusChange>
  events(signal: AbortSignal): AsyncIterable<RunStreamEvent>
}

/**
 * Yields a run's status now, then each change, and ends after a final status (`succeeded`,
 * `failed`, `cancelled`). The stream is opened before the run is read, and the run is read
 * again whenever the stream (re)attaches or overflows, so no change goes unreported; the same
 * status is never yielded twice in a row.
 */
export async function* watchRunStatus(
  source: RunStatusSource,
  options: { readonly signal?: AbortSignal } = {},
): AsyncGenerator<RunStatusChange> {
  const stop = new AbortController()
  const onAbort = () => stop.abort()
  options.signal?.addEventListener('abort', onAbort, { once: true })
  const events = source.events(stop.signal)[Symbol.asyncIterator]()
  try {
    let last = await source.current()
    yield last
    if (isFinished(last.status)) return
    for (;;) {
      const next = await events.next()
      if (next.done) return
      const event = next.value
      let seen: RunStatusChange | undefined
      if (event.type === 'status' && event.run.runId === last.runId) seen = event.run
      else if (event.type === 'attached' || event.type === 'overflow') seen = await source.current()
      if (seen && seen.status !== last.status) {
        last = seen
        yield last
        if (isFinished(last.status)) return
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    stop.abort()
    await events.return?.()
  }
}
