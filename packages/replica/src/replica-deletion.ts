import { ReplicaError } from './replica-error.js'
import {
  type ReplicaLocation,
  replicaKeyPrefix,
  validateReplicaLocation,
} from './replica-location.js'
import { withReplicaStore } from './store-access.js'

/** Result of {@link deleteReplica}. */
export interface ReplicaDeletion {
  readonly deletedObjects: number
}

/**
 * Delete every object of a replica, and nothing else: the keys listed under
 * `<path>/` (the trailing slash keeps `tenants/a` from matching `tenants/ab`), in
 * batches of at most 1000. Stop its replicator first, or Litestream writes new objects.
 */
export async function deleteReplica(replica: ReplicaLocation): Promise<ReplicaDeletion> {
  let context = 'delete replica'
  try {
    const location = validateReplicaLocation(replica)
    context = `delete replica ${location.path}`
    const prefix = replicaKeyPrefix(location)
    return await withReplicaStore(location.storage, async (store) => {
      const keys = (await store.list(prefix))
        .map((object) => object.key)
        .filter((key) => key.startsWith(prefix))
      return { deletedObjects: await store.delete(keys) }
    })
  } catch (err) {
    throw ReplicaError.wrap(err, context, 'STORAGE_UNAVAILABLE')
  }
}
