import { ReplicaError } from './replica-error.js'
import {
  type ReplicaLocation,
  replicaKeyPrefix,
  validateReplicaLocation,
} from './replica-location.js'
import type { StoredObject } from './replica-store.js'
import { withReplicaStore } from './store-access.js'

/** One Litestream snapshot: a full copy of the database at a WAL index. */
export interface SnapshotPoint {
  /** WAL index the snapshot was taken at. */
  readonly index: number
  /** ISO time the snapshot was stored. */
  readonly createdAt: string
  readonly sizeBytes: number
}

/** One Litestream generation: a snapshot and the unbroken WAL stream after it. */
export interface GenerationPoint {
  /** 16 hex digits, as Litestream names it. */
  readonly id: string
  /** ISO time of its first snapshot (or first object). */
  readonly createdAt: string
  /** ISO time of its newest object: the latest state it can restore. */
  readonly updatedAt: string
  readonly snapshots: SnapshotPoint[]
}

/** What a replica can restore, for point-in-time restore and the API. */
export interface RestorePoints {
  /** Oldest first. */
  readonly generations: GenerationPoint[]
  /** Earliest time a restore can target (the oldest snapshot), null without backups. */
  readonly earliestAt: string | null
  /** Latest state's time, null without backups. */
  readonly latestAt: string | null
}

const SNAPSHOT_KEY = /^([0-9a-f]{16})\/snapshots\/([0-9a-f]{8,16})\.snapshot\.lz4$/
const GENERATION_KEY = /^([0-9a-f]{16})\//

/**
 * List the generations and snapshots of a replica, with their times, from the object
 * listing (Litestream's layout: `generations/<id>/snapshots/<index>.snapshot.lz4` and
 * `generations/<id>/wal/…`). A replica with no backup yet has no generations.
 */
export async function restorePoints(replica: ReplicaLocation): Promise<RestorePoints> {
  let context = 'list restore points'
  try {
    const location = validateReplicaLocation(replica)
    context = `list restore points of ${location.path}`
    const prefix = `${replicaKeyPrefix(location)}generations/`
    const objects = await withReplicaStore(location.storage, (store) => store.list(prefix))
    return pointsFromObjects(prefix, objects)
  } catch (err) {
    throw ReplicaError.wrap(err, context, 'STORAGE_UNAVAILABLE')
  }
}

/** Group a listing under `<replica>/generations/` into restore points. */
export function pointsFromObjects(prefix: string, objects: readonly StoredObject[]): RestorePoints {
  const byGeneration = new Map<
    string,
    { first: number; last: number; snapshots: SnapshotPoint[] }
  >()
  for (const object of objects) {
    const rel = object.key.slice(prefix.length)
    const id = GENERATION_KEY.exec(rel)?.[1]
    if (!id) continue
    const at = object.lastModified.getTime()
    const generation = byGeneration.get(id) ?? { first: at, last: at, snapshots: [] }
    generation.first = Math.min(generation.first, at)
    generation.last = Math.max(generation.last, at)
    const snapshot = SNAPSHOT_KEY.exec(rel)
    if (snapshot?.[2]) {
      generation.snapshots.push({
        index: Number.parseInt(snapshot[2], 16),
        createdAt: object.lastModified.toISOString(),
        sizeBytes: object.sizeBytes,
      })
    }
    byGeneration.set(id, generation)
  }
  const generations = [...byGeneration.entries()]
    .map(([id, g]): GenerationPoint => {
      const snapshots = g.snapshots.sort((a, b) => a.index - b.index)
      return {
        id,
        createdAt: snapshots[0]?.createdAt ?? new Date(g.first).toISOString(),
        updatedAt: new Date(g.last).toISOString(),
        snapshots,
      }
    })
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  const snapshotTimes = generations.flatMap((g) => g.snapshots.map((s) => s.createdAt)).sort()
  const updateTimes = generations.map((g) => g.updatedAt).sort()
  return {
    generations,
    earliestAt: snapshotTimes[0] ?? null,
    latestAt: updateTimes.at(-1) ?? null,
  }
}
