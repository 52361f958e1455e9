import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openConnection } from './connection.js'
import { GroupCommit } from './group-commit.js'
import { cleanup, tempDir } from '@litecell/testkit/engine'

afterEach(cleanup)

function setup() {
  const path = join(tempDir(), 'g.db')
  const db = openConnection(path, { synchronous: 'NORMAL' })
  db.exec('CREATE TABLE t (x INTEGER)')
  const insert = db.prepare('INSERT INTO t VALUES (?)')
  const reader = openConnection(path, { synchronous: 'NORMAL', readOnly: true })
  const count = () => (reader.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n
  return { db, insert, count, reader }
}

describe('GroupCommit', () => {
  it('commits all writes of one event-loop turn in one transaction, then resolves waiters', async () => {
    const { db, insert, count, reader } = setup()
    const writer = new GroupCommit(db)
    const waits = Array.from({ length: 50 }, (_, i) => {
      writer.write(() => insert.run(i))
      return writer.durable().then(() => count())
    })
    expect(count()).toBe(0)
    const seen = await Promise.all(waits)
    expect(seen.every((n) => n === 50)).toBe(true)
    expect(writer.commits).toBe(1)
    writer.close()
    reader.close()
    db.close()
  })

  it('lets later reads on the write connection see uncommitted writes', async () => {
    const { db, insert, reader } = setup()
    const writer = new GroupCommit(db)
    writer.write(() => insert.run(1))
    expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(1)
    await writer.durable()
    writer.close()
    reader.close()
    db.close()
  })

  it('refuses writes after close with ENGINE_CLOSED and resolves durable at once when idle', async () => {
    const { db, insert, reader } = setup()
    const writer = new GroupCommit(db)
    await writer.durable()
    writer.close()
    expect(() => writer.write(() => insert.run(1))).toThrow(
      expect.objectContaining({ code: 'ENGINE_CLOSED' }),
    )
    reader.close()
    db.close()
  })
})
