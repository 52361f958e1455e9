/**
 * One tenant's token cannot open run streams without bound (each costs the control plane a
 * connection and, while the tenant sleeps, a look for its worker every half second): past 32
 * open at once the next is refused with 429 TOO_MANY_STREAMS, another tenant's are not
 * counted, and a closed stream frees its slot.
 *
 * Catches: streams never counted (the 33rd opens), or never released (the slot stays taken
 * after the client left).
 */
import { beforeAll, expect, test } from 'vitest'
import { waitFor } from '@litecell/testkit'
import { useInProcessServer } from '@litecell/testkit/in-process'
import { MAX_RUN_STREAMS_PER_TENANT } from '@litecell/control-plane'

const server = useInProcessServer()
const tokens: Record<string, string> = {}

beforeAll(async () => {
  for (const id of ['streamer', 'neighbour']) {
    tokens[id] = (await server.admin.post<any>('/v1/tenants', { id, app: 'test' })).token
  }
})

async function open(
  tenant: string,
): Promise<{ status: number; code?: string; close: () => Promise<void> }> {
  const controller = new AbortController()
  const response = await server.fetch(`/v1/tenants/${tenant}/runs/stream`, {
    headers: { authorization: `Bearer ${tokens[tenant]}` },
    signal: controller.signal,
  })
  if (response.status !== 200) {
    const body = (await response.json()) as { error: { code: string } }
    return { status: response.status, code: body.error.code, close: async () => undefined }
  }
  return {
    status: 200,
    close: async () => {
      controller.abort()
      await response.body?.cancel().catch(() => undefined)
    },
  }
}

test('past 32 open streams of one tenant the next is 429 TOO_MANY_STREAMS; other tenants are not counted; a closed one frees its slot', async () => {
  const streams = []
  for (let i = 0; i < MAX_RUN_STREAMS_PER_TENANT; i++) streams.push(await open('streamer'))
  expect(streams.map((stream) => stream.status)).toEqual(streams.map(() => 200))
  const refused = await open('streamer')
  expect(refused).toMatchObject({ status: 429, code: 'TOO_MANY_STREAMS' })
  const neighbour = await open('neighbour')
  expect(neighbour.status).toBe(200)

  await streams.pop()!.close()
  const again = await waitFor(async () => {
    const stream = await open('streamer')
    return stream.status === 200 ? stream : undefined
  })
  for (const stream of [...streams, again, neighbour]) await stream.close()
})
