import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { ReplicaError } from './replica-error.js'
import {
  type ReplicaLocation,
  replicaKeyPrefix,
  validateReplicaLocation,
} from './replica-location.js'
import type { StoredObject } from './replica-store.js'
import { withReplicaStore } from './store-access.js'

/** The record beside a kept copy: which replica, and exactly how it looked when the copy was kept. */
const RECORD_FILE = 'copy.json'

interface CopyRecord {
  readonly version: 1
  readonly replicaPath: string
  /** SHA-256 over every object under the replica's `generations/` (key, size, time). */
  readonly listing: string
  readonly objects: number
  /** The kept database's file name inside the copy's folder. */
  readonly file: string
  /** Whether its WAL was kept beside it (absent in records written before this field). */
  readonly wal?: boolean
  /** Whether Litestream's folder (its shadow WAL) was kept beside it (absent before issue 12's hibernation work). */
  readonly litestream?: boolean
  readonly keptAtMs: number
}

/**
 * A wake from the copy lets Litestream continue its generation only while that generation
 * stays cheap to restore (every hibernation's proof, and a wake elsewhere, replays it all): at
 * most this many objects, and no more WAL bytes than its snapshot plus
 * {@link CONTINUED_WAL_ALLOWANCE_BYTES}. Past that the wake leaves Litestream's folder out and
 * Litestream starts a new generation with one snapshot.
 */
export const MAX_CONTINUED_OBJECTS = 64
/**
 * WAL a continued generation may hold beyond its snapshot's size: a new generation would
 * upload the database's live WAL again anyway (up to Litestream's 4 MB checkpoint threshold,
 * twice over here), so a smaller bound would only start generations that gain nothing.
 */
export const CONTINUED_WAL_ALLOWANCE_BYTES = 8 * 1024 * 1024

/** Litestream 0.3's folder beside a database (`.<name>-litestream`: db.go, `MetaDirSuffix`). */
export function litestreamDirOf(dbPath: string): string {
  return join(dirname(dbPath), `.${basename(dbPath)}-litestream`)
}

/** What {@link takeHibernatedCopy} found. */
export type HibernatedCopyUse =
  /** The copy was moved to the target: the replica is exactly as it was when the copy was kept. */
  | 'taken'
  /** The replica changed since (written from elsewhere, deleted, re-created): the copy is gone. */
  | 'stale'
  /** No copy was kept here. */
  | 'none'

/**
 * Keeps a hibernated database on this machine for its next wake (issue 12): call it right after
 * a *verified* stop of its replicator, while nothing else may write the replica (the lease is
 * still held). The database (and its WAL) move to `copyDir` beside a record of the replica's
 * whole listing at this moment: the verified stop proved the replica holds the file's last
 * transaction, so as long as the listing is unchanged the replica and the copy hold the same
 * state. Litestream's own folder (its shadow WAL) moves with them: a wake from the copy lets
 * Litestream continue the generation, uploading only the new WAL, not a whole new snapshot
 * (issue 12: that upload was most of a hibernation right after a wake). Litestream itself
 * checks on start that the shadow WAL still matches the database's WAL, and starts a new
 * generation if not. Resolves false, keeping nothing, when the replica lists nothing.
 */
export async function keepHibernatedCopy(
  dbPath: string,
  copyDir: string,
  replica: ReplicaLocation,
): Promise<boolean> {
  const path = resolve(dbPath)
  try {
    const location = validateReplicaLocation(replica)
    const { listing, objects, objectList } = await listingOf(location)
    if (objects === 0) return false
    await rm(copyDir, { recursive: true, force: true })
    await mkdir(copyDir, { recursive: true })
    const name = basename(path)
    await rename(path, join(copyDir, name))
    const wal = existsSync(`${path}-wal`)
    if (wal) await rename(`${path}-wal`, join(copyDir, `${name}-wal`))
    await rm(`${path}-shm`, { force: true })
    const litestream = wal && existsSync(litestreamDirOf(path))
    if (litestream) {
      const kept = litestreamDirOf(join(copyDir, name))
      await rename(litestreamDirOf(path), kept)
      await pruneShadowWal(kept, objectList)
    }
    const record: CopyRecord = {
      version: 1,
      replicaPath: location.path,
      listing,
      objects,
      file: name,
      wal,
      litestream,
      keptAtMs: Date.now(),
    }
    // The record last, written whole: a copy without it (a crash in between) is never used.
    const tmp = join(copyDir, `${RECORD_FILE}.tmp`)
    await writeFile(tmp, JSON.stringify(record))
    await rename(tmp, join(copyDir, RECORD_FILE))
    return true
  } catch (err) {
    await rm(copyDir, { recursive: true, force: true }).catch(() => undefined)
    throw ReplicaError.wrap(err, `keep hibernated copy of ${path}`, 'STORAGE_UNAVAILABLE')
  }
}

/**
 * Uses the copy {@link keepHibernatedCopy} kept in `copyDir` instead of a download, if and
 * only if the replica's listing is exactly what it was when the copy was kept: any upload
 * since (a wake on another machine starts a new generation; a write appends to one), a
 * deletion or a re-created replica changes it, and then the copy is removed unused. A wake
 * never trusts a local file the replica has moved past. One listing request for a small
 * replica, no Litestream process. `targetPath` (and its `-wal`) must not exist.
 *
 * @throws {ReplicaError} `STORAGE_*` when the replica cannot be listed (the copy is kept).
 */
export async function takeHibernatedCopy(
  copyDir: string,
  replica: ReplicaLocation,
  targetPath: string,
): Promise<HibernatedCopyUse> {
  const target = resolve(targetPath)
  // Litestream's folder without its database (a take or a teardown a crash cut short) speaks
  // of a state that is not there: never beside a file restored or taken now.
  if (!existsSync(target)) await rm(litestreamDirOf(target), { recursive: true, force: true })
  let record: CopyRecord
  try {
    record = JSON.parse(await readFile(join(copyDir, RECORD_FILE), 'utf8')) as CopyRecord
  } catch {
    if (existsSync(copyDir)) await rm(copyDir, { recursive: true, force: true })
    return 'none'
  }
  let context = `use hibernated copy for ${target}`
  try {
    const location = validateReplicaLocation(replica)
    context = `use hibernated copy of ${location.path} for ${target}`
    const now = await listingOf(location)
    const same =
      record.version === 1 &&
      record.replicaPath === location.path &&
      record.listing === now.listing &&
      record.objects === now.objects
    if (!same) {
      await rm(copyDir, { recursive: true, force: true })
      return 'stale'
    }
    const kept = join(copyDir, basename(record.file))
    // A take that a crash cut between its two renames left the copy's WAL at the target and
    // the copy without it: finish that take, or every later wake would refuse the target.
    const walMoved =
      record.wal === true &&
      !existsSync(target) &&
      !existsSync(`${kept}-wal`) &&
      existsSync(`${target}-wal`)
    for (const path of walMoved ? [target] : [target, `${target}-wal`]) {
      if (existsSync(path))
        throw new ReplicaError('RESTORE_FAILED', `target ${path} already exists`)
    }
    // Litestream's folder and the WAL first: the database file appearing is what makes a
    // target "present". The folder only with the WAL it describes, and only while the
    // generation is short enough to replay (else Litestream starts a new one).
    const keptLitestream = litestreamDirOf(kept)
    if (
      record.litestream === true &&
      existsSync(`${kept}-wal`) &&
      (await isWorthContinuing(keptLitestream, now.objectList))
    ) {
      await rename(keptLitestream, litestreamDirOf(target))
    }
    if (existsSync(`${kept}-wal`)) await rename(`${kept}-wal`, `${target}-wal`)
    await rename(kept, target)
    await rm(copyDir, { recursive: true, force: true })
    return 'taken'
  } catch (err) {
    throw ReplicaError.wrap(err, context, 'STORAGE_UNAVAILABLE')
  }
}

/** The generation a Litestream folder names (its `generation` file), or null. */
async function generationOf(litestreamDir: string): Promise<string | null> {
  const generation = (
    await readFile(join(litestreamDir, 'generation'), 'utf8').catch(() => '')
  ).trim()
  return /^[0-9a-f]{16}$/.test(generation) ? generation : null
}

/**
 * Drops what a continued generation no longer needs from a kept Litestream folder, by
 * Litestream's own rule (db.go, `cleanWAL`): shadow WAL files of indexes below the newest one
 * the replica holds (all uploaded), and other generations' folders. Litestream continues from
 * its newest shadow WAL file alone; without this a kept copy held every shadow WAL of the life
 * (50 MB beside a 50 MB tenant).
 */
async function pruneShadowWal(
  litestreamDir: string,
  objects: readonly StoredObject[],
): Promise<void> {
  const generation = await generationOf(litestreamDir)
  if (!generation) return
  const segment = new RegExp(
    `/generations/${generation}/wal/([0-9a-f]{8})_[0-9a-f]{8}\\.wal\\.lz4$`,
  )
  const indexes = objects.flatMap((object) => {
    const match = segment.exec(object.key)
    return match ? [Number.parseInt(match[1]!, 16)] : []
  })
  if (indexes.length === 0) return
  const uploadedBelow = Math.max(...indexes)
  const generationsDir = join(litestreamDir, 'generations')
  for (const name of await readdir(generationsDir).catch(() => [])) {
    if (name !== generation) await rm(join(generationsDir, name), { recursive: true, force: true })
  }
  const walDir = join(generationsDir, generation, 'wal')
  for (const name of await readdir(walDir).catch(() => [])) {
    const match = /^([0-9a-f]{8})\.wal$/.exec(name)
    if (match && Number.parseInt(match[1]!, 16) < uploadedBelow) await rm(join(walDir, name))
  }
}

/** Whether the generation a kept Litestream folder names is cheap enough to restore to continue. */
async function isWorthContinuing(
  litestreamDir: string,
  objects: readonly StoredObject[],
): Promise<boolean> {
  const generation = await generationOf(litestreamDir)
  if (!generation) return false
  const own = objects.filter((object) => object.key.includes(`/generations/${generation}/`))
  const bytesOf = (part: string): number[] =>
    own.filter((object) => object.key.includes(`/${part}/`)).map((object) => object.sizeBytes)
  const snapshotBytes = Math.max(0, ...bytesOf('snapshots'))
  const walBytes = bytesOf('wal').reduce((sum, bytes) => sum + bytes, 0)
  return (
    snapshotBytes > 0 &&
    walBytes <= snapshotBytes + CONTINUED_WAL_ALLOWANCE_BYTES &&
    own.length <= MAX_CONTINUED_OBJECTS
  )
}

/** A digest of every object of the replica's generations, so any change to the replica shows. */
async function listingOf(
  location: ReplicaLocation,
): Promise<{ listing: string; objects: number; objectList: StoredObject[] }> {
  const prefix = `${replicaKeyPrefix(location)}generations/`
  const objects: StoredObject[] = await withReplicaStore(location.storage, (store) =>
    store.list(prefix),
  )
  const hash = createHash('sha256')
  for (const object of [...objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    hash.update(`${object.key}\t${object.sizeBytes}\t${object.lastModified.getTime()}\n`)
  }
  return {
    listing: hash.digest('hex'),
    objects: objects.length,
    objectList: objects,
  }
}
