import { Hono } from 'hono'
import type { Logger } from 'pino'
import { expect, test } from 'vitest'
import { RequestErrorLog } from './request-error-log.js'

/** The levels an error answer was logged at, for an error with `code` thrown by a route. */
async function levelOf(code: string): Promise<string[]> {
  const levels: string[] = []
  const log = {
    warn: () => levels.push('warn'),
    error: () => levels.push('error'),
  } as unknown as Logger
  const errors = new RequestErrorLog(log)
  const app = new Hono()
  app.onError((err, context) => {
    errors.record(context, err, 500)
    return context.text('', 500)
  })
  app.get('/v1/tenants/:id', () => {
    throw Object.assign(new Error('x'), { code })
  })
  await app.request('/v1/tenants/acme')
  return levels
}

test('a 5xx with a code of its own is a warning; one without (a bug) is an error', async () => {
  // Catches: a list of "expected" 5xx codes that misses codes added later (APP_LOAD_FAILED,
  // LOGS_UNAVAILABLE), logging a tenant's broken app as a control-plane failure with a stack.
  for (const code of [
    'TENANT_FAILED',
    'STORAGE_UNAVAILABLE',
    'APP_LOAD_FAILED',
    'LOGS_UNAVAILABLE',
  ]) {
    expect(await levelOf(code)).toEqual(['warn'])
  }
  for (const code of ['INTERNAL', 'SQLITE_CORRUPT']) expect(await levelOf(code)).toEqual(['error'])
})
