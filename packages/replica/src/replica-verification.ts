import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LitestreamBinary } from './litestream-binary.js'
import type { ReplicaLocation } from './replica-location.js'
import { withReplicaStore } from './store-access.js'
import { restoreWith } from './restore.js'
import { ReplicaError, messageOf } from './replica-error.js'
import type { SyncLog } from './sync-log.js'
import { readSyncMarker, writeSyncMarker } from './sync-marker.js'

/**
 * Prove that the replica holds `marker`: restore its latest state into a private temp
 * directory and read the marker row back. Restoring is the proof that matters: it is
 * exactly what the next wake will do, so it also catches a replica that lists fine but
 * cannot be restored. Throws `REPLICA_NOT_VERIFIED` (or a `STORAGE_*` error) otherwise.
 */
export async function verifyReplicaHolds(
  binary: LitestreamBinary,
  replica: ReplicaLocation,
  marker: string,
  timeoutMs: number,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'litecell-verify-'))
  try {
    const copy = join(dir, 'replica.db')
    const { restored } = await restoreWith(binary, replica, copy, { timeoutMs }).catch(
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

/**
 * The verified sync of a running replicator: commit a marker, wait for Litestream's next
 * upload, and prove by a restore that the replica holds it; the first upload after the marker
 * may have begun before it, so a miss is proven again after each further upload, until
 * `timeoutMs`. Throws `REPLICA_NOT_VERIFIED` (nothing is stopped or deleted either way).
 */
export async function proveSynced(parts: {
  readonly binary: LitestreamBinary
  readonly dbPath: string
  readonly replica: ReplicaLocation
  readonly syncs: SyncLog
  readonly timeoutMs: number
  readonly isRunning: () => boolean
}): Promise<{ marker: string; verifiedAtMs: number; durationMs: number }> {
  const { binary, dbPath, replica, syncs, timeoutMs } = parts
  const started = performance.now()
  const remainingMs = (): number => Math.max(1, timeoutMs - (performance.now() - started))
  let seen = syncs.count
  const marker = writeSyncMarker(dbPath)
  try {
    for (;;) {
      if (!parts.isRunning()) throw new Error('the replicator stopped')
      await syncs.next(seen, remainingMs(), 'litestream to upload the sync marker')
      seen = syncs.count
      try {
        await verifyReplicaHolds(binary, replica, marker, remainingMs())
        break
      } catch (err) {
        const missing = (err as { code?: unknown }).code === 'REPLICA_NOT_VERIFIED'
        if (!missing || performance.now() - started >= timeoutMs) throw err
      }
    }
  } catch (err) {
    throw new ReplicaError(
      'REPLICA_NOT_VERIFIED',
      `sync ${dbPath} to ${replica.path}: ${messageOf(err)}`,
      { cause: err, hint: 'check that the storage is reachable; nothing was stopped or deleted' },
    )
  }
  return { marker, verifiedAtMs: Date.now(), durationMs: Math.round(performance.now() - started) }
}
