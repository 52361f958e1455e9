import { createParser } from 'eventsource-parser'
import { tenantPath, type Api } from './api.js'
import type { RunStatusEvent } from './api-types.js'

/** How the live connection is doing, for the little indicator beside a run list. */
export type StreamState = 'connecting' | 'live' | 'asleep' | 'retrying'

export interface RunStreamHandlers {
  /** A run changed status. */
  onStatus(event: RunStatusEvent): void
  /** Changes may have been missed (first connect, reconnect, overflow): reload what is shown. */
  onResync(): void
  onState?(state: StreamState): void
}

const RETRY_MIN_MS = 1000
const RETRY_MAX_MS = 15_000

/**
 * Follows `GET /v1/tenants/:id/runs/stream` (Server-Sent Events). `EventSource` cannot send
 * an `Authorization` header, so the stream is read with `fetch` and parsed with
 * eventsource-parser: the token stays in a header, as on every other call, and never lands in
 * a URL, a server log or the browser history. Reconnects with backoff; each (re)connect asks
 * the page to resync, since events in the gap are not replayed.
 *
 * @returns a function that closes the stream.
 */
export function followRuns(api: Api, tenantId: string, handlers: RunStreamHandlers): () => void {
  const controller = new AbortController()
  let retryMs = RETRY_MIN_MS
  const run = async () => {
    while (!controller.signal.aborted) {
      handlers.onState?.('connecting')
      try {
        const response = await api.fetch('GET', tenantPath(tenantId, '/runs/stream'), {
          signal: controller.signal,
          accept: 'text/event-stream',
        })
        const parser = createParser({
          onEvent(message) {
            retryMs = RETRY_MIN_MS
            if (message.event === 'status') handlers.onStatus(JSON.parse(message.data) as RunStatusEvent)
            else if (message.event === 'attached') {
              handlers.onState?.('live')
              handlers.onResync()
            } else if (message.event === 'detached') handlers.onState?.('asleep')
            else if (message.event === 'overflow') handlers.onResync()
          },
        })
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          parser.feed(value)
        }
      } catch (err) {
        if (controller.signal.aborted) return
        if ((err as { status?: number }).status === 401 || (err as { status?: number }).status === 403) return
      }
      if (controller.signal.aborted) return
      handlers.onState?.('retrying')
      await new Promise((resolve) => setTimeout(resolve, retryMs))
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2)
    }
  }
  void run()
  return () => controller.abort()
}
