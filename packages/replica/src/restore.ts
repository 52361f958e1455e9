import { existsSync } from 'node:fs'
import { link, mkdir, mkdtemp, open, rm } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { type LitestreamBinary, resolveLitestream } from './litestream-binary.js'
import { LitestreamConfig } from './litestream-config.js'
import { LitestreamProcess, describeExit } from './litestream-process.js'
import { LogBuffer } from './log-buffer.js'
import { ReplicaError } from './replica-error.js'
import {
  type ReplicaLocation,
  describeReplica,
  replicaKeyPrefix,
  validateReplicaLocation,
} from './replica-location.js'
import { withReplicaStore } from './store-access.js'
import { type GenerationPoint, type RestorePoints, restorePoints } from './restore-points.js'
import { redactSecret } from './storage-config.js'

/** How long one `litestream restore` may run before it is killed. */
export const DEFAULT_RESTORE_TIMEOUT_MS = 10 * 60_000

const NO_SNAPSHOT_AT = /cannot find snapshot index by timestamp: no snapshots available/

/** Options of {@link restore}. */
export interface RestoreOptions {
  /** Point in time (a Date or an ISO 8601 string); the latest state when absent. */
  readonly at?: Date | string
  /** @default DEFAULT_RESTORE_TIMEOUT_MS */
  readonly timeoutMs?: number
}

/** Result of {@link restore}. */
export interface RestoreResult {
  /**
   * False when the replica holds no object at all (or, with `at`, no backup at that time): a
   * new tenant, not an error. A replica that holds objects but no restorable generation is an
   * error (`REPLICA_UNRESTORABLE`), never `false`.
   */
  readonly restored: boolean
}

/**
 * Restore the replica into `targetPath`: the latest state, or the state at `opts.at`.
 * The file appears atomically: Litestream restores into a temp directory beside the
 * target, and the finished file is hard-linked into place (never overwriting). Throws
 * `RESTORE_FAILED` if the target (or its `-wal`/`-shm`) exists, `REPLICA_UNRESTORABLE` if the
 * replica holds objects but no generation with a snapshot, `INVALID_CONFIG` for a bad `at`,
 * and `STORAGE_*` errors when the storage is misconfigured or down.
 *
 * @example
 * const { restored } = await restore(tenantReplica(storage, 'acme'), '/data/acme/tenant.db')
 */
export async function restore(
  replica: ReplicaLocation,
  targetPath: string,
  opts: RestoreOptions = {},
): Promise<RestoreResult> {
  let context = 'restore replica'
  try {
    const location = validateReplicaLocation(replica)
    context = `restore replica ${location.path}`
    const at = parseRestoreTime(opts.at)
    // The preflight matters: a wrong bucket must fail, not read as "no backup yet" and
    // start the tenant empty.
    // It runs alongside the restore itself (a wake waits for both), and its verdict wins.
    const checked = withReplicaStore(location.storage, (store) => store.check())
    checked.catch(() => undefined)
    const [binary, points] = await Promise.all([
      resolveLitestream(),
      restorePoints(location).catch(async (err: unknown) => {
        await checked
        throw err
      }),
    ])
    await checked
    // Naming the generation spares Litestream a scan of every generation (one per wake),
    // and a replica with none needs no Litestream at all.
    const target = at ? pointInTime(points, at) : latestGeneration(points)
    if (!target) {
      // "Nothing to restore" must mean an empty replica, never one we cannot read: a new,
      // empty database in its place would be replicated over it (issue 9, item 12).
      if (!at) await refuseUnrestorable(location, points)
      return { restored: false }
    }
    const timeoutMs = opts.timeoutMs ?? DEFAULT_RESTORE_TIMEOUT_MS
    return await restoreWith(binary, location, resolve(targetPath), { ...target, timeoutMs })
  } catch (err) {
    throw ReplicaError.wrap(err, context, 'RESTORE_FAILED')
  }
}

/**
 * {@link restore} without preflight or binary resolution, for callers that already did
 * both (the verified stop). `targetPath` must be absolute.
 */
export async function restoreWith(
  binary: LitestreamBinary,
  replica: ReplicaLocation,
  targetPath: string,
  opts: { readonly at?: Date; readonly generation?: string; readonly timeoutMs: number },
): Promise<RestoreResult> {
  for (const path of [targetPath, `${targetPath}-wal`, `${targetPath}-shm`]) {
    if (existsSync(path)) {
      throw new ReplicaError('RESTORE_FAILED', `target ${path} already exists`, {
        hint: 'restore into a path with no database; remove the old files first if they are expendable',
      })
    }
  }
  await mkdir(dirname(targetPath), { recursive: true })
  // The temp dir sits beside the target so that the final link stays on one file system.
  const workDir = await mkdtemp(join(dirname(targetPath), `.${basename(targetPath)}.restore-`))
  const workPath = join(workDir, basename(targetPath))
  const config = await LitestreamConfig.write({ dbPath: workPath, replica })
  const logs = new LogBuffer()
  try {
    const args = ['restore', ...config.args(), '-if-replica-exists', '-o', workPath]
    if (opts.generation) args.push('-generation', opts.generation)
    if (opts.at) args.push('-timestamp', opts.at.toISOString())
    args.push(workPath)
    const child = LitestreamProcess.spawn(binary.path, args, {
      env: config.env(),
      onLine: (line) => logs.push(line),
    })
    const exit = await child.waitForExit(opts.timeoutMs)
    // A point in time before the first snapshot: `-if-replica-exists` covers "no backups"
    // but not this spelling of the same answer once a generation has several snapshots.
    if (opts.at && exit.code === 1 && logs.lines().some((line) => NO_SNAPSHOT_AT.test(line))) {
      return { restored: false }
    }
    if (exit.killed || exit.code !== 0) {
      const why = exit.killed
        ? `timed out after ${opts.timeoutMs} ms`
        : `litestream ${describeExit(exit)}`
      throw new ReplicaError(
        'RESTORE_FAILED',
        `${why}: ${redactSecret(logs.tail(), replica.storage)}`,
        {
          hint: `check that ${describeReplica(replica)} is reachable and intact`,
        },
      )
    }
    if (!existsSync(workPath)) return { restored: false }
    await link(workPath, targetPath)
    await syncDirectory(dirname(targetPath))
    return { restored: true }
  } finally {
    await Promise.all([config.remove(), rm(workDir, { recursive: true, force: true })])
  }
}

/** The generation with the newest state (restorable: it has a snapshot), or null. */
function latestGeneration(points: RestorePoints): { generation: string } | null {
  const latest = restorable(points).sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt))[0]
  return latest ? { generation: latest.id } : null
}

/**
 * Which generation holds the state at `at`, and whether a timestamp is needed: the newest
 * generation that began at or before `at`; if `at` is past its last upload (a tenant that
 * was hibernated or idle then), that generation's latest state is the state at `at`.
 * Litestream alone answers "no matching backups" for such times. Null: `at` is before any
 * backup.
 */
function pointInTime(points: RestorePoints, at: Date): { generation: string; at?: Date } | null {
  const atMs = at.getTime()
  const holder = restorable(points)
    .filter((generation) => Date.parse(generation.createdAt) <= atMs)
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))[0]
  if (!holder) return null
  return atMs >= Date.parse(holder.updatedAt) ? { generation: holder.id } : { generation: holder.id, at }
}

/**
 * Throws `REPLICA_UNRESTORABLE` unless the replica is truly empty: generations without a
 * snapshot, or any object at all under its path, mean a replica we cannot restore.
 */
async function refuseUnrestorable(location: ReplicaLocation, points: RestorePoints): Promise<void> {
  const hint = `inspect ${describeReplica(location)}; move its objects away (or restore them) before starting this database anew`
  if (points.generations.length > 0) {
    const ids = points.generations.map((generation) => generation.id).join(', ')
    throw new ReplicaError(
      'REPLICA_UNRESTORABLE',
      `the replica holds ${points.generations.length} generation(s) (${ids}) but none has a snapshot to restore from`,
      { hint },
    )
  }
  const objects = await withReplicaStore(location.storage, (store) =>
    store.list(replicaKeyPrefix(location)),
  )
  if (objects.length > 0) {
    throw new ReplicaError(
      'REPLICA_UNRESTORABLE',
      `the replica holds ${objects.length} object(s) (${objects[0]!.key}, …) but no Litestream generation`,
      { hint },
    )
  }
}

function restorable(points: RestorePoints): GenerationPoint[] {
  return points.generations.filter((generation) => generation.snapshots.length > 0)
}

/** `undefined` → latest; otherwise a valid Date, or `INVALID_CONFIG`. */
export function parseRestoreTime(at: Date | string | undefined): Date | undefined {
  if (at === undefined) return undefined
  const date =
    at instanceof Date ? at : typeof at === 'string' ? new Date(at) : new Date(Number.NaN)
  if (Number.isNaN(date.getTime())) {
    throw new ReplicaError(
      'INVALID_CONFIG',
      `expected \`at\` to be a Date or an ISO 8601 time, got \`${String(at)}\` (${typeof at})`,
    )
  }
  return date
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
