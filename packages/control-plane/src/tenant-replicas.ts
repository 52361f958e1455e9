import {
  deleteReplica,
  restorePoints,
  tenantReplica,
  type RestorePoints,
  type StorageConfig,
} from '@litecell/replica'

/**
 * The tenants' replicas, as the control plane sees them: it lists their restore points and
 * deletes them, and never reads or writes a tenant file (workers restore and replicate).
 */
export interface TenantReplicas {
  /** The generations and times a restore (or a fork) can target. */
  restorePoints(tenantId: string): Promise<RestorePoints>
  /** Removes the tenant's replica for good (the tenant is being deleted). */
  delete(tenantId: string): Promise<void>
}

/** The replicas in S3-compatible storage, in Litestream's layout (the production kind). */
export function storedReplicas(storage: StorageConfig): TenantReplicas {
  return {
    restorePoints: (tenantId) => restorePoints(tenantReplica(storage, tenantId)),
    delete: async (tenantId) => {
      await deleteReplica(tenantReplica(storage, tenantId))
    },
  }
}
