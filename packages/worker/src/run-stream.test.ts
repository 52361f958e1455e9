import { describe, expect, it } from 'vitest'
import { MAX_QUEUED_EVENTS, RunStatusStream } from './run-stream.js'

/** A reader of a stream's text: each call reads until `done(text)` holds or the stream ends. */
function textReader(body: ReadableStream<Uint8Array>): (done: (text: string) => boolean) => Promise<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  return async (done) => {
    let text = ''
    while (!done(text)) {
      const { value, done: ended } = await reader.read()
      if (ended) break
      text += value
    }
    return text
  }
}

async function readUntil(body: ReadableStream<Uint8Array>, done: (text: string) => boolean): Promise<string> {
  return textReader(body)(done)
}

function events(text: string, name: string): unknown[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.includes(`event: ${name}\n`))
    .map((frame) => JSON.parse(/^data: (.*)$/m.exec(frame)![1]!))
}

describe('RunStatusStream', () => {
  it('sends attached first, then one status event per change, in order', async () => {
    const stream = new RunStatusStream('acme')
    const response = stream.response()
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    stream.publish('r1', 'train', 'running')
    stream.publish('r1', 'train', 'succeeded')
    stream.publish('r2', 'sweep', 'pending')
    const text = await readUntil(response.body!, (seen) => events(seen, 'status').length === 3)
    expect(text.startsWith('retry: ')).toBe(true)
    expect(events(text, 'attached')).toEqual([{ tenantId: 'acme' }])
    expect(events(text, 'status').map((event) => (event as { runId: string; status: string }).status)).toEqual([
      'running',
      'succeeded',
      'pending',
    ])
    stream.close()
  })

  // Catches: a replicated tenant's stream announcing an end that S3 does not hold yet.
  it('sends a replicated subscriber final statuses only once confirmed, a local one at once', async () => {
    const stream = new RunStatusStream('acme')
    const local = textReader(stream.response().body!)
    const replicated = textReader(stream.response({ confirmedFinals: true }).body!)
    stream.publish('r1', 'train', 'running')
    stream.publish('r1', 'train', 'succeeded')
    stream.publish('r2', 'train', 'pending')
    const statuses = (text: string) => events(text, 'status').map((event) => (event as { status: string }).status)
    expect(statuses(await local((seen) => statuses(seen).length === 3))).toEqual(['running', 'succeeded', 'pending'])
    expect(statuses(await replicated((seen) => statuses(seen).length === 2))).toEqual(['running', 'pending'])
    stream.publishConfirmed('r1', 'train', 'succeeded')
    stream.publish('r2', 'train', 'running')
    expect(statuses(await replicated((seen) => statuses(seen).length === 2))).toEqual(['succeeded', 'running'])
    expect(statuses(await local((seen) => statuses(seen).length === 1))).toEqual(['running'])
    stream.close()
  })

  it('ends every stream on close and refuses new subscribers after it', async () => {
    const stream = new RunStatusStream('acme')
    const first = stream.response()
    stream.publish('r1', 'train', 'running')
    stream.close()
    const text = await readUntil(first.body!, () => false)
    expect(events(text, 'status')).toHaveLength(1)
    expect(stream.size).toBe(0)
    expect(await readUntil(stream.response().body!, () => false)).toBe('')
  })

  it('tells a flooded subscriber to resync instead of queueing without bound', async () => {
    const stream = new RunStatusStream('acme')
    const response = stream.response()
    const read = textReader(response.body!)
    for (let i = 0; i <= MAX_QUEUED_EVENTS; i++) stream.publish(`r${i}`, 'train', 'pending')
    const text = await read((seen) => seen.includes('event: overflow'))
    expect(events(text, 'status')).toHaveLength(0)
    stream.publish('after', 'train', 'succeeded')
    const more = await read((seen) => seen.includes('after'))
    expect(events(more, 'status')).toEqual([expect.objectContaining({ runId: 'after' })])
    stream.close()
  })

  it('forgets a subscriber whose client went away', async () => {
    const stream = new RunStatusStream('acme')
    const response = stream.response()
    expect(stream.size).toBe(1)
    await response.body!.cancel()
    expect(stream.size).toBe(0)
    stream.publish('r1', 'train', 'running')
  })
})
