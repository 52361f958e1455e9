import { mkdtemp, rm, stat, statfs } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LitestreamBinary } from './litestream-binary.js'
import type { ReplicaLocation } from './replica-location.js'
import { withReplicaStore } from './store-access.js'
import { restoreWith } from './restore.js'
import { ReplicaError, messageOf } from './replica-error.js'
import type { ReplicaPosition } from './replica-position.js'
import { readSyncMarker, writeSyncMarker } from './sync-marker.js'
import type { WalCommit } from './wal-commit.js'

/** Memory-backed scratch space, where it exists: a proof's copy is thrown away at once. */
export const MEMORY_SCRATCH_DIR = '/dev/shm'
/**
 * Databases up to this size (file and WAL) are restored for their proof into
 * {@link MEMORY_SCRATCH_DIR}: no disk write and no fsync of the snapshot, which Litestream's
 * restore makes (issue 12: a third of a small tenant's proof). Bounded, because the copy counts
 * against a pod's memory limit while it lives.
 */
export const PROOF_IN_MEMORY_MAX_BYTES = 16 * 1024 * 1024

/**
 * Prove that the replica holds `marker`: restore its latest state into a private temp
 * directory and read the marker row back. Restoring is the proof that matters: it is
 * exactly what the next wake will do, so it also catches a replica that lists fine but
 * cannot be restored. Throws `REPLICA_NOT_VERIFIED` (or a `STORAGE_*` error) otherwise.
 * `generation` (the one the marker was confirmed in, the newest) spares Litestream a scan of
 * every generation, one per wake, exactly as `restore()` names it for a wake. `dbPath`, the
 * local database, sizes the copy: a small one is restored in memory.
 */
export async function verifyReplicaHolds(
  binary: LitestreamBinary,
  replica: ReplicaLocation,
  marker: string,
  timeoutMs: number,
  generation?: string,
  dbPath?: string,
): Promise<void> {
  const dir = await mkdtemp(join(await scratchParent(dbPath), 'litecell-verify-'))
  try {
    const copy = join(dir, 'replica.db')
    const { restored } = await restoreWith(binary, replica, copy, {
      timeoutMs,
      ...(generation ? { generation } : {}),
    }).catch(async (err: unknown) => {
      // Prefer the store's own clear reason (unreachable, credentials) over Litestream's.
      await withReplicaStore(replica.storage, (store) => store.check())
      throw err
    })
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

/** Where a proof restores `dbPath`'s replica: in memory if it is small and there is room. */
async function scratchParent(dbPath: string | undefined): Promise<string> {
  if (dbPath === undefined) return tmpdir()
  try {
    const sizes = await Promise.all(
      [dbPath, `${dbPath}-wal`].map((path) =>
        stat(path).then(
          (info) => info.size,
          () => 0,
        ),
      ),
    )
    const bytes = sizes.reduce((sum, size) => sum + size, 0)
    if (bytes > PROOF_IN_MEMORY_MAX_BYTES) return tmpdir()
    const space = await statfs(MEMORY_SCRATCH_DIR)
    // Room for the snapshot, its temp file and the WAL, twice over.
    return space.bavail * space.bsize >= 4 * bytes + PROOF_IN_MEMORY_MAX_BYTES
      ? MEMORY_SCRATCH_DIR
      : tmpdir()
  } catch {
    return tmpdir()
  }
}

/**
 * The verified sync of a running replicator: commit a marker, wait until the position watcher
 * confirms that commit in S3 (`confirm`), then prove by a restore of that generation that the
 * replica holds it. Throws `REPLICA_NOT_VERIFIED` (nothing is stopped or deleted either way).
 */
export async function proveSynced(parts: {
  readonly binary: LitestreamBinary
  readonly dbPath: string
  readonly replica: ReplicaLocation
  readonly timeoutMs: number
  readonly confirm: (commit: WalCommit, timeoutMs: number) => Promise<ReplicaPosition>
}): Promise<{ marker: string; verifiedAtMs: number; durationMs: number }> {
  const { binary, dbPath, replica, timeoutMs } = parts
  const started = performance.now()
  const remainingMs = (): number => Math.max(1, timeoutMs - (performance.now() - started))
  try {
    const { marker, commit } = await writeSyncMarker(dbPath)
    const position = await parts.confirm(commit, remainingMs())
    await verifyReplicaHolds(binary, replica, marker, remainingMs(), position.generation, dbPath)
    return { marker, verifiedAtMs: Date.now(), durationMs: Math.round(performance.now() - started) }
  } catch (err) {
    throw new ReplicaError(
      'REPLICA_NOT_VERIFIED',
      `sync ${dbPath} to ${replica.path}: ${messageOf(err)}`,
      {
        cause: err,
        hint: 'check that the storage is reachable; nothing was stopped or deleted',
      },
    )
  }
}
