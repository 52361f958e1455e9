import { isReplicaError } from './replica-error.js'
import type { StorageConfig } from './storage-config.js'
import { bucketNameTakenError, storageError } from './storage-error.js'

/**
 * The bucket-creation flow every store shares: done if `check` passes; otherwise, only for a
 * missing bucket, `create` it. "Already owned by you" (a concurrent creator won) is success;
 * "already exists" means another account holds the name. `create` throws the transport's
 * error, whose `code` (or `name`, the SDK's) is S3's error code.
 */
export async function ensureBucketExists(
  storage: StorageConfig,
  check: () => Promise<void>,
  create: () => Promise<void>,
): Promise<void> {
  try {
    await check()
    return
  } catch (err) {
    if (!isReplicaError(err) || err.code !== 'STORAGE_BUCKET_MISSING') throw err
  }
  try {
    await create()
  } catch (err) {
    const { code, name } = err as { code?: unknown; name?: unknown }
    const s3Code = typeof code === 'string' ? code : name
    if (s3Code === 'BucketAlreadyOwnedByYou') return
    if (s3Code === 'BucketAlreadyExists') throw bucketNameTakenError(storage.bucket, err)
    throw storageError(err, `create bucket ${storage.bucket}`, storage)
  }
}
