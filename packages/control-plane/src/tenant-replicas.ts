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
  /**
   * The generations and times a restore (or a fork) can target, in the replica of this
   * incarnation of the tenant (null: a tenant created before incarnations).
   */
  restorePoints(tenantId: string, incarnation?: string | null): Promise<RestorePoints>
  /** Removes every replica of the tenant id for good, all incarnations (it is being deleted). */
  delete(tenantId: string): Promise<void>
}

/** The replicas in S3-compatible storage, in Litestream's layout (the production kind). */
export function storedReplicas(storage: StorageConfig): TenantReplicas {
  return {
    restorePoints: (tenantId, incarnation) =>
      restorePoints(tenantReplica(storage, tenantId, incarnation)),
    delete: async (tenantId) => {
      await deleteReplica(tenantReplica(storage, tenantId))
    },
  }
}
