import { ReplicaError } from './replica-error.js'
import {
  type StorageConfig,
  describeStorage,
  trimSlashes,
  validateStorageConfig,
} from './storage-config.js'

/** Tenant ids are slugs (ARCHITECTURE.md invariant 6). */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/

/** One replica: a storage and the key path of the replica inside its bucket. */
export interface ReplicaLocation {
  readonly storage: StorageConfig
  /** Key path inside the bucket, without leading or trailing slash. */
  readonly path: string
}

/** Incarnation ids (see `@litecell/protocol`): 16 lowercase hex digits. */
const INCARNATION_PATTERN = /^[0-9a-f]{16}$/

/**
 * The replica of a tenant's database: `<prefix>/tenants/<tenantId>/<incarnation>`, or
 * `<prefix>/tenants/<tenantId>` for a tenant created before incarnations (none given). A
 * tenant created again under a deleted one's id has a new incarnation, so it never restores
 * what the old one left; {@link replicaKeyPrefix} of the bare tenant location holds every
 * incarnation's objects (what a delete removes).
 * Throws `INVALID_CONFIG` unless `tenantId` is a slug (`[a-z0-9][a-z0-9-]{0,62}`) and
 * `incarnation`, if given, 16 lowercase hex digits.
 */
export function tenantReplica(
  storage: StorageConfig,
  tenantId: string,
  incarnation?: string | null,
): ReplicaLocation {
  if (typeof tenantId !== 'string' || !TENANT_ID_PATTERN.test(tenantId)) {
    throw new ReplicaError(
      'INVALID_CONFIG',
      `expected \`tenantId\` to be a slug matching ${TENANT_ID_PATTERN}, got \`${String(tenantId)}\` (${typeof tenantId})`,
    )
  }
  if (incarnation === undefined || incarnation === null) return replicaAt(storage, `tenants/${tenantId}`)
  if (typeof incarnation !== 'string' || !INCARNATION_PATTERN.test(incarnation)) {
    throw new ReplicaError(
      'INVALID_CONFIG',
      `expected \`incarnation\` to match ${INCARNATION_PATTERN}, got \`${String(incarnation)}\` (${typeof incarnation})`,
    )
  }
  return replicaAt(storage, `tenants/${tenantId}/${incarnation}`)
}

/** The replica of the control plane's registry database: `<prefix>/control-plane`. */
export function controlPlaneReplica(storage: StorageConfig): ReplicaLocation {
  return replicaAt(storage, 'control-plane')
}

function replicaAt(storage: StorageConfig, name: string): ReplicaLocation {
  const valid = validateStorageConfig(storage)
  return { storage: valid, path: [valid.prefix, name].filter(Boolean).join('/') }
}

/**
 * Check a location given by a caller and return it normalized. The path must be non-empty
 * so that no operation can ever address the whole bucket.
 */
export function validateReplicaLocation(replica: ReplicaLocation): ReplicaLocation {
  const storage = validateStorageConfig(replica?.storage)
  const path = typeof replica.path === 'string' ? trimSlashes(replica.path) : ''
  if (path === '' || path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new ReplicaError(
      'INVALID_CONFIG',
      `expected replica \`path\` to be a non-empty key path, got \`${String(replica.path)}\` (${typeof replica.path})`,
    )
  }
  return { storage, path }
}

/**
 * The key prefix that holds exactly this replica's objects. It ends with `/`, so that
 * `tenants/a/` never matches the objects of `tenants/ab`.
 */
export function replicaKeyPrefix(replica: ReplicaLocation): string {
  return `${trimSlashes(replica.path)}/`
}

/** The replica's address for messages: `s3://bucket/prefix/tenants/acme at http://…`. */
export function describeReplica(replica: ReplicaLocation): string {
  return describeStorage(replica.storage, replica.path)
}
