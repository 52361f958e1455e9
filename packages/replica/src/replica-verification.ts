import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LitestreamBinary } from './litestream-binary.js'
import { ReplicaError } from './replica-error.js'
import type { ReplicaLocation } from './replica-location.js'
import { withReplicaStore } from './replica-store.js'
import { restoreWith } from './restore.js'
import { readSyncMarker } from './sync-marker.js'

/**
 * Prove that the replica holds `marker`: restore its latest state into a private temp
 * directory and read the marker row back. Restoring is the proof that matters: it is
 * exactly what the next wake will do, so it also catches a replica that lists fine but
 * cannot be restored. Throws `REPLICA_NOT_VERIFIED` (or a `STORAGE_*` error) otherwise.
 * `generation` (the one the marker was confirmed in, the newest) spares Litestream a scan of
 * every generation, one per wake, exactly as `restore()` names it for a wake.
 */
export async function verifyReplicaHolds(
  binary: LitestreamBinary,
  replica: ReplicaLocation,
  marker: string,
  timeoutMs: number,
  generation?: string,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'litecell-verify-'))
  try {
    const copy = join(dir, 'replica.db')
    const { restored } = await restoreWith(binary, replica, copy, {
      timeoutMs,
      ...(generation ? { generation } : {}),
    }).catch(
      async (err: unknown) => {
        // Prefer the store's own clear reason (unreachable, credentials) over Litestream's.
        await withReplicaStore(replica.storage, (store) => store.check())
        throw err
      },
    )
    if (!restored) {
      throw new ReplicaError('REPLICA_NOT_VERIFIED', 'the replica holds no backup at all')
    }
    const found = readSyncMarker(copy)
    if (found !== marker) {
      throw new ReplicaError(
        'REPLICA_NOT_VERIFIED',
        `the replica lacks the last transaction (sync marker ${marker}, replica has ${found ?? 'none'})`,
      )
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
