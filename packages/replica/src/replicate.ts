import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { resolveLitestream } from './litestream-binary.js'
import {
  DEFAULT_MONITOR_INTERVAL_MS,
  DEFAULT_SYNC_INTERVAL_MS,
  LitestreamConfig,
} from './litestream-config.js'
import { LitestreamProcess, watchdogArgs } from './litestream-process.js'
import { PositionWatcher } from './position-watcher.js'
import { ReplicaError } from './replica-error.js'
import { ReplicaLock, databaseLockPath, replicaLockPath } from './replica-lock.js'
import {
  type ReplicaLocation,
  describeReplica,
  replicaKeyPrefix,
  validateReplicaLocation,
} from './replica-location.js'
import { openReplicaStore, withReplicaStore } from './store-access.js'
import { StallWatch } from './stall-watch.js'
import { LitestreamReplicator } from './litestream-replicator.js'
import type { Replicator } from './replicator.js'

/** How long Litestream may take to report that it replicates. */
export const DEFAULT_START_TIMEOUT_MS = 15_000

/** Options of {@link replicate}. */
export interface ReplicateOptions {
  /** How often new WAL frames are uploaded. @default DEFAULT_SYNC_INTERVAL_MS (1000) */
  readonly syncIntervalMs?: number
  /** How often the WAL is checked for changes. @default DEFAULT_MONITOR_INTERVAL_MS (1000) */
  readonly monitorIntervalMs?: number
  /** How long snapshots and WAL are kept: the point-in-time window. @default 24 h (Litestream) */
  readonly retentionMs?: number
  /** How long Litestream may take to start. @default DEFAULT_START_TIMEOUT_MS */
  readonly startTimeoutMs?: number
  /** Every Litestream log line, as it arrives. */
  readonly onLog?: (line: string) => void
  /** Called when Litestream died and a restart is scheduled. */
  readonly onRestart?: (err: ReplicaError) => void
  /**
   * Check the storage before starting, so bad settings fail at once. Skip it to start while
   * the storage is down (Litestream catches up once it is back), e.g. a worker restarting
   * from the local file it kept through a crash.
   * @default true
   */
  readonly checkStorage?: boolean
}

/**
 * Replicate the SQLite file at `dbPath` to `replica` with a supervised Litestream
 * process, and resolve once Litestream reports that it replicates. The storage is checked
 * first, so bad credentials or a missing bucket fail here with one clear `STORAGE_*`
 * error. A second replicator for the same database or the same replica path, from this
 * or another process on this machine, is refused with `REPLICA_PATH_BUSY` (lock files
 * next to the database and in the temp directory). If Litestream dies, it is restarted
 * with backoff until {@link Replicator.stop}/{@link Replicator.stopVerified}. Litestream
 * never outlives this process: if this process dies, even by SIGKILL, Litestream goes
 * within about a second (its `-exec` watchdog ends, or SIGPIPE hits its next log line).
 * Its final sync is then best effort; the successor's restore + replicate carries on.
 *
 * @example
 * const replicator = await replicate('/data/acme/tenant.db', tenantReplica(storage, 'acme'))
 * // … serve the tenant …
 * await replicator.stopVerified() // now the local files may go
 */
export async function replicate(
  dbPath: string,
  replica: ReplicaLocation,
  opts: ReplicateOptions = {},
): Promise<Replicator> {
  const syncIntervalMs = checkMs('syncIntervalMs', opts.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS)
  const monitorIntervalMs = checkMs(
    'monitorIntervalMs',
    opts.monitorIntervalMs ?? DEFAULT_MONITOR_INTERVAL_MS,
  )
  const retentionMs =
    opts.retentionMs === undefined ? undefined : checkMs('retentionMs', opts.retentionMs)
  const startTimeoutMs = checkMs('startTimeoutMs', opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS)
  const path = resolve(dbPath)
  let context = `replicate ${path}`
  const locks: ReplicaLock[] = []
  let config: LitestreamConfig | undefined
  let watcher: PositionWatcher | undefined
  try {
    const location = validateReplicaLocation(replica)
    context = `replicate ${path} to ${location.path}`
    if (!existsSync(path)) {
      throw new ReplicaError('INVALID_CONFIG', `database ${path} does not exist`, {
        hint: 'restore or create the database before replicating it',
      })
    }
    const holder = `database ${path}`
    locks.push(ReplicaLock.acquire(databaseLockPath(path), holder, `database ${path}`))
    locks.push(
      ReplicaLock.acquire(
        replicaLockPath(location),
        holder,
        `replica path ${describeReplica(location)}`,
      ),
    )
    const [binary] = await Promise.all([
      resolveLitestream(),
      opts.checkStorage === false ? undefined : withReplicaStore(location.storage, (store) => store.check()),
    ])
    config = await LitestreamConfig.write({
      dbPath: path,
      replica: location,
      syncIntervalMs,
      monitorIntervalMs,
      ...(retentionMs ? { retentionMs } : {}),
    })
    const ready = config
    watcher = new PositionWatcher({
      dbPath: path,
      store: await openReplicaStore(location.storage),
      replicaKeyPrefix: replicaKeyPrefix(location),
      syncIntervalMs,
      pollIntervalMs: PositionWatcher.pollIntervalMs(syncIntervalMs, monitorIntervalMs),
    })
    const replicator = new LitestreamReplicator({
      binary,
      dbPath: path,
      replica: location,
      config: ready,
      locks,
      spawn: (onLine, quick) =>
        LitestreamProcess.spawn(
          binary.path,
          ['replicate', ...ready.args({ quick }), ...watchdogArgs(process.pid)],
          {
            env: ready.env(),
            onLine,
          },
        ),
      startTimeoutMs,
      stallAfterMs: StallWatch.thresholdMs(syncIntervalMs, monitorIntervalMs),
      watcher,
      ...(opts.onLog ? { onLog: opts.onLog } : {}),
      ...(opts.onRestart ? { onRestart: opts.onRestart } : {}),
    })
    await replicator.start()
    return replicator
  } catch (err) {
    for (const lock of locks) lock.release()
    watcher?.close('the replicator did not start')
    await config?.remove()
    throw ReplicaError.wrap(err, context, 'LITESTREAM_FAILED')
  }
}

function checkMs(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(
      `Expected \`${name}\` to be an integer number of ms from 1 and up, got \`${value}\` (${typeof value})`,
    )
  }
  return value
}
