import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { type EmbeddedS3, openSqlite, startEmbeddedS3 } from '@litecell/replica'

/** Sync and monitor intervals that keep replica tests quick. */
export const FAST_REPLICATION = { syncIntervalMs: 100, monitorIntervalMs: 50 } as const

/**
 * A replica test's world: a temp directory and an embedded S3 server with its data inside
 * it. Shared by the replica package's tests and the replication benchmark.
 */
export class TestFixture {
  readonly dir: string
  /** Every object the S3 server stored, with when (performance.now()), in order. */
  readonly puts: { readonly key: string; readonly atMs: number }[] = []
  #s3!: EmbeddedS3
  #port = 0

  private constructor(dir: string) {
    this.dir = dir
  }

  static async create(name = 'replica'): Promise<TestFixture> {
    const fx = new TestFixture(await mkdtemp(join(tmpdir(), `litecell-${name}-`)))
    await fx.#startS3(0)
    return fx
  }

  async #startS3(port: number): Promise<void> {
    this.#s3 = await startEmbeddedS3({
      dir: join(this.dir, 's3'),
      port,
      onObjectCreated: (key) => this.puts.push({ key, atMs: performance.now() }),
    })
    this.#port = this.#s3.port
  }

  get s3(): EmbeddedS3 {
    return this.#s3
  }

  /** Stop the S3 server (an outage). */
  async stopS3(): Promise<void> {
    await this.#s3.stop()
  }

  /** Start it again on the same port with the same data. */
  async restartS3(): Promise<void> {
    await this.#startS3(this.#port)
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts)
  }

  async dispose(): Promise<void> {
    await this.#s3.stop()
    await rm(this.dir, { recursive: true, force: true })
  }
}

/** Create the test table `items` in a fresh database. */
export function createItemsDb(path: string): void {
  const db = openSqlite(path)
  try {
    db.exec('CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)')
  } finally {
    db.close()
  }
}

/**
 * Insert `count` rows of `payloadBytes` random bytes each, in transactions of
 * `batchRows`; returns the last row id.
 */
export function insertItems(
  path: string,
  count: number,
  payloadBytes = 100,
  batchRows = 500,
): number {
  const db = openSqlite(path)
  try {
    const insert = db.prepare('INSERT INTO items (payload) VALUES (randomblob(?))')
    const batch = db.transaction((rows: number) => {
      for (let i = 0; i < rows; i++) insert.run(payloadBytes)
    })
    for (let done = 0; done < count; done += batchRows) batch(Math.min(batchRows, count - done))
    return Number(
      (db.prepare('SELECT max(id) AS id FROM items').get() as { id: number | null }).id ?? 0,
    )
  } finally {
    db.close()
  }
}

/** Row count of `items` and the result of `PRAGMA integrity_check`. */
export function inspectItems(path: string): { rows: number; integrity: string } {
  const db = openSqlite(path)
  try {
    const rows = (db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n
    const integrity = (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string })
      .integrity_check
    return { rows, integrity }
  } finally {
    db.close()
  }
}

export { waitFor } from './wait-for.js'
