import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { errorResponse } from './error-response.js'

/** An app whose one route throws `err`, answered by `errorResponse` like every litecell API. */
function failing(err: unknown): Hono {
  const app = new Hono()
  app.onError((caught, context) => errorResponse(context, caught))
  app.get('/', () => {
    throw err
  })
  return app
}

describe('errorResponse', () => {
  it("sends the code's Retry-After unless the error carries its own", async () => {
    const plain = Object.assign(new Error('busy'), { code: 'OVER_CAPACITY' })
    const own = Object.assign(new Error('busy'), { code: 'OVER_CAPACITY', retryAfterSeconds: 7 })
    const bogus = Object.assign(new Error('busy'), {
      code: 'OVER_CAPACITY',
      retryAfterSeconds: '9',
    })
    const none = Object.assign(new Error('gone'), { code: 'TENANT_NOT_FOUND' })
    expect((await failing(plain).request('/')).headers.get('retry-after')).toBe('1')
    const answer = await failing(own).request('/')
    expect(answer.status).toBe(429)
    expect(answer.headers.get('retry-after')).toBe('7')
    expect((await failing(bogus).request('/')).headers.get('retry-after')).toBe('1')
    expect((await failing(none).request('/')).headers.get('retry-after')).toBeNull()
  })
})
