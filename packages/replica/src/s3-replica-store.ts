import type { S3Client } from '@aws-sdk/client-s3'
import { ensureBucketExists } from './bucket-creation.js'
import type { ReplicaStore, StoreRequests, StoredObject } from './replica-store.js'
import { DELETE_BATCH_SIZE, checkDeleteBatchSize, s3ClientConfig } from './s3-client.js'
import { DEFAULT_REGION, type StorageConfig } from './storage-config.js'
import { deleteFailedError, storageError } from './storage-error.js'

type S3Sdk = typeof import('@aws-sdk/client-s3')

/**
 * {@link ReplicaStore} over any S3-compatible API (AWS S3, R2, MinIO, the embedded s3rver)
 * through the AWS SDK, whose default credential chain (IRSA on Kubernetes, instance roles,
 * `~/.aws`) serves configs without explicit credentials. The SDK is imported when the first
 * such store opens (issue 12: ≈ 25 MB of RSS that a worker with explicit credentials never
 * pays; `openReplicaStore` gives those an `S3HttpReplicaStore`).
 */
export class S3ReplicaStore implements ReplicaStore {
  readonly #sdk: S3Sdk
  readonly #storage: StorageConfig
  readonly #client: S3Client
  readonly #deleteBatchSize: number
  readonly requests: StoreRequests = { list: 0, get: 0, other: 0 }

  /**
   * Load the SDK and open a store.
   *
   * @param opts.deleteBatchSize keys per DeleteObjects request, 1–1000. @default 1000
   */
  static async open(
    storage: StorageConfig,
    opts: { readonly deleteBatchSize?: number } = {},
  ): Promise<S3ReplicaStore> {
    const batch = checkDeleteBatchSize(opts.deleteBatchSize ?? DELETE_BATCH_SIZE)
    return new S3ReplicaStore(await import('@aws-sdk/client-s3'), storage, batch)
  }

  private constructor(sdk: S3Sdk, storage: StorageConfig, deleteBatchSize: number) {
    this.#sdk = sdk
    this.#storage = storage
    this.#client = new sdk.S3Client(s3ClientConfig(storage))
    this.#deleteBatchSize = deleteBatchSize
  }

  async check(): Promise<void> {
    // ListObjectsV2 rather than HeadBucket: a HEAD response has no body, so a 403 could not
    // tell rejected credentials from a missing permission.
    try {
      this.requests.other++
      await this.#client.send(
        new this.#sdk.ListObjectsV2Command({ Bucket: this.#storage.bucket, MaxKeys: 1 }),
      )
    } catch (err) {
      throw storageError(err, `check bucket ${this.#storage.bucket}`, this.#storage)
    }
  }

  async ensureBucket(): Promise<void> {
    const { bucket, region } = this.#storage
    await ensureBucketExists(
      this.#storage,
      () => this.check(),
      async () => {
        this.requests.other++
        await this.#client.send(
          new this.#sdk.CreateBucketCommand({
            Bucket: bucket,
            ...(region !== DEFAULT_REGION
              ? { CreateBucketConfiguration: { LocationConstraint: region as never } }
              : {}),
          }),
        )
      },
    )
  }

  async list(prefix: string, opts: { readonly startAfter?: string } = {}): Promise<StoredObject[]> {
    const objects: StoredObject[] = []
    let token: string | undefined
    try {
      do {
        this.requests.list++
        const page = await this.#client.send(
          new this.#sdk.ListObjectsV2Command({
            Bucket: this.#storage.bucket,
            Prefix: prefix,
            ...(token ? { ContinuationToken: token } : {}),
            ...(opts.startAfter && !token ? { StartAfter: opts.startAfter } : {}),
          }),
        )
        for (const object of page.Contents ?? []) {
          if (!object.Key) continue
          objects.push({
            key: object.Key,
            sizeBytes: object.Size ?? 0,
            lastModified: object.LastModified ?? new Date(0),
          })
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
    } catch (err) {
      throw storageError(err, `list objects under ${prefix}`, this.#storage)
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  async read(key: string): Promise<Uint8Array | null> {
    try {
      this.requests.get++
      const object = await this.#client.send(
        new this.#sdk.GetObjectCommand({ Bucket: this.#storage.bucket, Key: key }),
      )
      return object.Body ? await object.Body.transformToByteArray() : new Uint8Array()
    } catch (err) {
      if (err instanceof this.#sdk.NoSuchKey || (err as { name?: unknown }).name === 'NoSuchKey')
        return null
      throw storageError(err, `read object ${key}`, this.#storage)
    }
  }

  async delete(keys: readonly string[]): Promise<number> {
    let deleted = 0
    for (let start = 0; start < keys.length; start += this.#deleteBatchSize) {
      const batch = keys.slice(start, start + this.#deleteBatchSize)
      let failed: { Key?: string; Code?: string; Message?: string }[] = []
      try {
        this.requests.other++
        const result = await this.#client.send(
          new this.#sdk.DeleteObjectsCommand({
            Bucket: this.#storage.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        )
        failed = result.Errors ?? []
      } catch (err) {
        throw storageError(err, `delete ${batch.length} objects`, this.#storage)
      }
      if (failed.length > 0) {
        throw deleteFailedError(
          batch.length,
          failed.map((f) => ({ key: f.Key ?? '', code: f.Code ?? '', message: f.Message ?? '' })),
        )
      }
      deleted += batch.length
    }
    return deleted
  }

  close(): void {
    this.#client.destroy()
  }
}
