import { describe, expect, it } from 'vitest'
import type { Fleet } from './fleet/fleet.js'
import { streamRuns } from './run-stream-proxy.js'

const FRAMES = 5_000
const FRAME = 'event: status\ndata: {"runId":"r","workflow":"w","status":"running","at":"x"}\n\n'

/**
 * A fleet whose tenant has one serving worker with a run stream of {@link FRAMES} frames that
 * counts how many were pulled from it. A fake because no real worker produces events on demand.
 */
function fleetWithEndlessWorker() {
  const pulled = { frames: 0 }
  const encoder = new TextEncoder()
  const worker = {
    forward: async () =>
      new Response(
        new ReadableStream<Uint8Array>(
          {
            pull(controller) {
              pulled.frames += 1
              controller.enqueue(encoder.encode(FRAME))
              if (pulled.frames === FRAMES) controller.close()
            },
          },
          { highWaterMark: 0 },
        ),
      ),
  }
  // One worker serves, once; after its stream ends the tenant has none (hibernated).
  let serving = true
  const fleet = {
    servingWorker: () => {
      const current = serving ? worker : undefined
      serving = false
      return current
    },
  } as unknown as Fleet
  return { fleet, pulled }
}

async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) await new Promise((resolve) => setImmediate(resolve))
}

describe('streamRuns', () => {
  // Before the mend the relay read the worker as fast as it answered and queued every frame
  // for the client: a tenant holding unread streams open grew the control plane's heap
  // without bound, and the worker (which drops a slow subscriber's events and later sends
  // `event: overflow`) never saw the slow reader.
  it('reads the worker only as fast as its client reads', async () => {
    const { fleet, pulled } = fleetWithEndlessWorker()
    const stop = new AbortController()
    const response = streamRuns(fleet, 'acme', {
      exists: () => true,
      signal: stop.signal,
      durability: () => 'local',
    })
    const reader = response.body!.getReader()
    await reader.read() // the `retry` line
    await turns(500)
    expect(pulled.frames).toBeLessThan(10)
    // A client that reads gets the frames.
    const before = pulled.frames
    for (let i = 0; i < 50; i += 1) await reader.read()
    expect(pulled.frames).toBeGreaterThanOrEqual(before + 40)
    stop.abort()
    await reader.cancel()
  })
})
