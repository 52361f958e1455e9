import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { openConnection } from './connection.js'
import { QueryThread } from './query-thread.js'
import { validateQuery } from './query.js'
import { cleanup, tempDir, waitFor } from '@litecell/testkit/engine'

afterEach(cleanup)

function database(): string {
  const path = join(tempDir(), 'tenant.db')
  const db = openConnection(path, { synchronous: 'NORMAL' })
  db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)')
  db.close()
  return path
}

it('starts on the first query, stops when idle, and starts again for the next', async () => {
  const thread = new QueryThread({ path: database(), timeoutMs: 5_000, idleMs: 50 })
  expect(thread.isRunning).toBe(false)
  expect((await thread.run(validateQuery('SELECT count(*) AS n FROM t', [], {}))).rows).toEqual([{ n: 2 }])
  expect(thread.isRunning).toBe(true)
  await waitFor(() => !thread.isRunning, { timeoutMs: 10_000 })
  expect((await thread.run(validateQuery('SELECT sum(x) AS s FROM t', [], {}))).rows).toEqual([{ s: 3 }])
  await thread.close()
  expect(thread.isRunning).toBe(false)
  await expect(thread.run(validateQuery('SELECT 1', [], {}))).rejects.toMatchObject({ code: 'ENGINE_CLOSED' })
})

it('answers queries sent at once in order, each with its own result', async () => {
  const thread = new QueryThread({ path: database(), timeoutMs: 5_000 })
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => thread.run(validateQuery('SELECT ? AS i', [i], {}))),
  )
  expect(results.map((r) => r.rows[0]?.i)).toEqual(Array.from({ length: 20 }, (_, i) => i))
  await thread.close()
})

it('refuses a query beyond the bound with QUERY_BUSY at once, and takes queries again once the queue drains', async () => {
  const thread = new QueryThread({ path: database(), timeoutMs: 300, maxQueued: 2 })
  const runaway = validateQuery('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c', [], {})
  const held = [thread.run(runaway), thread.run(runaway)].map((query) => query.catch((error: unknown) => error))
  await expect(thread.run(validateQuery('SELECT 1', [], {}))).rejects.toMatchObject({
    code: 'QUERY_BUSY',
    message: expect.stringContaining('2 queries of this tenant'),
  })
  for (const outcome of held) expect(await outcome).toMatchObject({ code: 'QUERY_TIMEOUT' })
  expect((await thread.run(validateQuery('SELECT 3 AS n', [], {}))).rows).toEqual([{ n: 3 }])
  await thread.close()
})
