import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { TENANT_DB_FILE } from '@litecell/protocol'
import { replicate, tenantReplica } from '@litecell/replica'
import type { WorkerSpec } from './launcher.js'

/** Sync interval while a seed is pushed: it only runs until the verified stop. */
const SEED_SYNC_INTERVAL_MS = 200

/**
 * Pushes a tenant database the control plane holds on its own disk to the tenant's replica,
 * and removes the local copy once the replica is verified to hold it (invariant 2). A pod
 * cannot see the control plane's disk: its worker starts from the replica. The control plane
 * writes there when it forks a tenant (the fork's database), and a local launcher's crashed
 * worker leaves its files there. Nothing else writes this tenant meanwhile: the launch
 * holds the tenant's new lease and its pod does not exist yet. Returns whether there was
 * anything to push.
 */
export async function seedReplica(spec: WorkerSpec): Promise<boolean> {
  const dir = spec.localDir
  if (!existsSync(join(dir, TENANT_DB_FILE))) return false
  const { storage, tenantId } = spec.settings
  const replicator = await replicate(
    join(dir, TENANT_DB_FILE),
    tenantReplica(storage, tenantId),
    {
      syncIntervalMs: SEED_SYNC_INTERVAL_MS,
    },
  )
  await replicator.stopVerified()
  await rm(dir, { recursive: true, force: true })
  return true
}
