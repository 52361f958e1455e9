import { createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { apiPath, type LitecellClient } from '@litecell/client'
import { CliError } from './cli-error.js'

/** Where a snapshot went and how big it is. */
export interface SnapshotFile {
  tenant: string
  /** The file written, or `-` for stdout. */
  path: string
  bytes: number
}

/**
 * Streams `GET /v1/tenants/:id/snapshot` (a consistent copy of the tenant's SQLite file) to
 * `path` without holding it in memory. The bytes go to a temporary file beside `path`, which
 * is renamed over `path` only once complete, so `path` is never a torn database: it is the
 * old file or the whole new one. `-` writes to stdout instead.
 */
export async function downloadSnapshot(
  client: LitecellClient,
  tenantId: string,
  path: string,
): Promise<SnapshotFile> {
  const response = await client.fetch('GET', apiPath('tenants', tenantId, 'snapshot'))
  if (!response.body)
    throw new CliError('INVALID_RESPONSE', `snapshot tenant ${tenantId}: empty response`)
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)
  let bytes = 0
  body.on('data', (chunk: Buffer) => (bytes += chunk.length))
  if (path === '-') {
    await pipeline(body, stdoutSink())
    return { tenant: tenantId, path, bytes }
  }
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.partial`)
  try {
    await pipeline(body, createWriteStream(temporary, { flags: 'wx', flush: true }))
    await rename(temporary, path)
  } catch (err) {
    await rm(temporary, { force: true })
    if (err instanceof CliError) throw err
    throw new CliError(
      'FILE_FAILED',
      `snapshot tenant ${tenantId} to ${path}: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
  return { tenant: tenantId, path, bytes: (await stat(path)).size }
}

/** stdout as a pipeline destination that is not closed at the end (other output may follow). */
function stdoutSink(): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      process.stdout.write(chunk, (err) => callback(err ?? null))
    },
  })
}
