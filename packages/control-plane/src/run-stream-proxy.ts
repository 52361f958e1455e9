import type { Durability } from '@litecell/protocol'
import type { Fleet } from './fleet/fleet.js'
import type { WorkerClient } from './fleet/worker-client.js'

/** How often a detached stream looks for the tenant's next worker. */
export const ATTACH_POLL_MS = 500
/** A comment line this often keeps the client's connection (and proxies between) open. */
export const HEARTBEAT_MS = 15_000

const encoder = new TextEncoder()

/**
 * `GET /v1/tenants/:id/runs/stream`: the tenant's run-status events (Server-Sent Events) for
 * as long as the client stays. While the tenant has a serving worker the stream relays that
 * worker's events (whole frames only, so nothing is torn when a worker dies mid-write); while
 * it has none, it sends `event: detached` once and heartbeats, and attaches to the next worker
 * when something else wakes the tenant. Watching never wakes a tenant, nor keeps one awake:
 * an open dashboard costs a hibernated tenant nothing. Each attach starts with the worker's
 * `event: attached`, the client's cue to reload what it shows (events between two workers are
 * not replayed). The stream ends when the tenant is deleted. A `replicated` tenant's stream
 * shows a final status only once it is confirmed in S3 (asked at each attach).
 */
export function streamRuns(
  fleet: Fleet,
  tenantId: string,
  options: {
    exists: () => boolean
    signal: AbortSignal
    durability: () => Durability
    /** Called once the stream has ended, whoever ended it. */
    onEnd?: () => void
  },
): Response {
  const stop = new AbortController()
  options.signal.addEventListener('abort', () => stop.abort(), { once: true })
  // Resolved when the client has read what was sent (the stream's `pull`), or left.
  let demand: (() => void) | undefined
  stop.signal.addEventListener('abort', () => demand?.(), { once: true })
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text))
        } catch {
          stop.abort()
        }
      }
      const drained = () =>
        (controller.desiredSize ?? 0) > 0 || stop.signal.aborted
          ? Promise.resolve()
          : new Promise<void>((resolve) => (demand = resolve))
      void relay(fleet, tenantId, options, { send, drained }, stop.signal).finally(() => {
        options.onEnd?.()
        try {
          controller.close()
        } catch {
          // the client already went away
        }
      })
    },
    pull() {
      demand?.()
      demand = undefined
    },
    cancel() {
      stop.abort()
    },
  })
  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    },
  })
}

async function relay(
  fleet: Fleet,
  tenantId: string,
  { exists, durability }: { exists: () => boolean; durability: () => Durability },
  client: Client,
  signal: AbortSignal,
): Promise<void> {
  const { send } = client
  send('retry: 2000\n\n')
  let isAttached = true // so the first pass reports `detached` if there is no worker
  let lastWriteMs = Date.now()
  while (!signal.aborted && exists()) {
    const worker = fleet.servingWorker(tenantId)
    if (worker) {
      isAttached = true
      await relayWorker(worker, tenantId, durability(), client, signal)
      lastWriteMs = Date.now()
      continue
    }
    if (isAttached) {
      isAttached = false
      send(`event: detached\ndata: ${JSON.stringify({ tenantId })}\n\n`)
      lastWriteMs = Date.now()
    } else if (Date.now() - lastWriteMs >= HEARTBEAT_MS) {
      send(': keep-alive\n\n')
      lastWriteMs = Date.now()
    }
    await abortableDelay(ATTACH_POLL_MS, signal)
  }
}

/** The client end of a stream: write a frame; wait until the client read what it was sent. */
interface Client {
  send(text: string): void
  drained(): Promise<void>
}

/**
 * Relays one worker's stream until it ends (worker stopping or gone) or the client leaves.
 * It reads the worker only as fast as the client reads: a client that stops reading holds
 * the worker's stream back, and the worker (which bounds what one subscriber may leave
 * unread, then sends `event: overflow`) drops events instead of this process queueing them.
 */
async function relayWorker(
  worker: WorkerClient,
  tenantId: string,
  durability: Durability,
  { send, drained }: Client,
  signal: AbortSignal,
): Promise<void> {
  try {
    const response = await worker.forward('GET', `/v1/tenants/${tenantId}/runs/stream`, {
      signal,
      durability,
    })
    if (!response.ok || !response.body) {
      await response.body?.cancel()
      await abortableDelay(ATTACH_POLL_MS, signal)
      return
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    for (;;) {
      await drained()
      if (signal.aborted) return
      const { done, value } = await reader.read()
      if (done) return
      buffer += value
      const end = buffer.lastIndexOf('\n\n')
      if (end >= 0) {
        send(buffer.slice(0, end + 2))
        buffer = buffer.slice(end + 2)
      }
    }
  } catch {
    // The worker died or the client left: the caller decides what comes next.
  }
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
