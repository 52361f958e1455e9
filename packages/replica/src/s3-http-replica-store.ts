import { createHash } from 'node:crypto'
import { ensureBucketExists } from './bucket-creation.js'
import type { ReplicaStore, StoreRequests, StoredObject } from './replica-store.js'
import { S3HttpClient } from './s3-http-client.js'
import { DELETE_BATCH_SIZE, checkDeleteBatchSize } from './s3-client.js'
import { createBucketXml, deleteRequestXml, parseDeleteFailures, parseListPage } from './s3-xml.js'
import { DEFAULT_REGION, type StorageConfig } from './storage-config.js'
import { deleteFailedError, storageError } from './storage-error.js'

/**
 * {@link ReplicaStore} over any S3-compatible API through {@link S3HttpClient}: the same
 * requests, answers and errors as `S3ReplicaStore` without loading the AWS SDK (issue 12).
 * For configs with explicit credentials; `openReplicaStore` picks it.
 */
export class S3HttpReplicaStore implements ReplicaStore {
  readonly #storage: StorageConfig
  readonly #client: S3HttpClient
  readonly #deleteBatchSize: number
  readonly requests: StoreRequests = { list: 0, get: 0, other: 0 }

  /** @param opts.deleteBatchSize keys per DeleteObjects request, 1–1000. @default 1000 */
  constructor(storage: StorageConfig, opts: { readonly deleteBatchSize?: number } = {}) {
    this.#deleteBatchSize = checkDeleteBatchSize(opts.deleteBatchSize ?? DELETE_BATCH_SIZE)
    this.#storage = storage
    this.#client = new S3HttpClient(storage)
  }

  async check(): Promise<void> {
    // ListObjectsV2 rather than HeadBucket: a HEAD response has no body, so a 403 could not
    // tell rejected credentials from a missing permission.
    try {
      this.requests.other++
      await this.#client.send({ method: 'GET', query: { 'list-type': '2', 'max-keys': '1' } })
    } catch (err) {
      throw storageError(err, `check bucket ${this.#storage.bucket}`, this.#storage)
    }
  }

  async ensureBucket(): Promise<void> {
    const { region } = this.#storage
    await ensureBucketExists(
      this.#storage,
      () => this.check(),
      async () => {
        this.requests.other++
        await this.#client.send({
          method: 'PUT',
          ...(region !== DEFAULT_REGION
            ? {
                body: Buffer.from(createBucketXml(region)),
                headers: { 'Content-Type': 'application/xml' },
              }
            : {}),
        })
      },
    )
  }

  async list(prefix: string, opts: { readonly startAfter?: string } = {}): Promise<StoredObject[]> {
    const objects: StoredObject[] = []
    let token: string | undefined
    try {
      do {
        this.requests.list++
        const answer = await this.#client.send({
          method: 'GET',
          query: {
            'list-type': '2',
            prefix,
            ...(token ? { 'continuation-token': token } : {}),
            ...(opts.startAfter && !token ? { 'start-after': opts.startAfter } : {}),
          },
        })
        const page = parseListPage(answer.body)
        objects.push(...page.objects)
        token = page.nextToken
      } while (token)
    } catch (err) {
      throw storageError(err, `list objects under ${prefix}`, this.#storage)
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  async read(key: string): Promise<Uint8Array | null> {
    try {
      this.requests.get++
      const { body } = await this.#client.send({ method: 'GET', key })
      return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
    } catch (err) {
      if ((err as { code?: unknown }).code === 'NoSuchKey') return null
      throw storageError(err, `read object ${key}`, this.#storage)
    }
  }

  async delete(keys: readonly string[]): Promise<number> {
    let deleted = 0
    for (let start = 0; start < keys.length; start += this.#deleteBatchSize) {
      const batch = keys.slice(start, start + this.#deleteBatchSize)
      let failed
      try {
        this.requests.other++
        const body = Buffer.from(deleteRequestXml(batch))
        // DeleteObjects requires an integrity header; Content-MD5 is the one every
        // S3-compatible store (AWS, R2, MinIO, s3rver) accepts.
        const answer = await this.#client.send({
          method: 'POST',
          query: { delete: '' },
          body,
          headers: {
            'Content-Type': 'application/xml',
            'Content-MD5': createHash('md5').update(body).digest('base64'),
          },
        })
        failed = parseDeleteFailures(answer.body)
      } catch (err) {
        throw storageError(err, `delete ${batch.length} objects`, this.#storage)
      }
      if (failed.length > 0) throw deleteFailedError(batch.length, failed)
      deleted += batch.length
    }
    return deleted
  }

  close(): void {
    this.#client.close()
  }
}
