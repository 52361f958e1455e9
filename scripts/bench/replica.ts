/**
 * `pnpm bench:replica`: how fast @litecell/replica restores, replicates and stops, on this
 * machine, against the embedded S3 server on loopback, printed as JSON.
 *
 * - restoreMs: wall time of `restore()` (preflight, `litestream restore`, atomic link) into an
 *   empty directory, for 1, 50 and 200 MB databases of incompressible rows, either as one
 *   snapshot (`snapshotOnly`: the file existed before replication started) or as a tiny
 *   snapshot plus the whole content in WAL segments (`snapshotPlusWal`: written while
 *   replicating).
 * - lagMs: from a commit returning to its WAL segment being listed in S3, p50/p99 over
 *   LAG_SAMPLES commits spread at random over the sync cycle, for Litestream's default
 *   intervals (1 s sync, 1 s monitor) and for tuned ones; `nudges` counts commits Litestream
 *   left un-uploaded until the replicator's stall watch woke it.
 * - stopVerifiedMs: `stopVerified()` of a 1 MB tenant (marker commit, SIGTERM final sync,
 *   restore of the replica into a temp file, marker read back).
 * - confirmMs: added latency of a replicated acknowledgement: from a commit returning to
 *   `replicator.confirmed()` resolving (the position watcher saw the commit's WAL segment in
 *   S3), p50/p99 over CONFIRM_SAMPLES commits spread at random over the sync cycle, one
 *   waiter at a time, at Litestream's default intervals and at 200 ms sync / 100 ms monitor.
 * - burst: BURST_COMMITS commits (one transaction each) made at once, each with a waiter, at
 *   default intervals: time until all are confirmed, watcher rounds, and S3 requests (LIST +
 *   GET) per confirmed commit.
 * - hibernateAfterWritesMs: `stopVerified()` of a 1 MB tenant right after a burst of writes,
 *   default intervals; `steady`: Litestream has been replicating for a while (the usual
 *   idle hibernation after activity), `fresh`: Litestream started < 1 s before (it opens the
 *   database only at its first monitor tick, so its final sync has to wait for that).
 *   `confirmedMs` is the part until the final position was seen in S3; the rest is the proof
 *   by restore.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import {
  type ReplicaLocation,
  type ReplicaStore,
  type StorageConfig,
  openSqlite,
  replicate,
  resolveLitestream,
  restore,
  startEmbeddedS3,
  tenantReplica,
  type Replicator,
  withReplicaStore,
} from '@litecell/replica'
import { waitFor } from '@litecell/testkit'
import { round as roundTo, summarize, type Summary } from './system/stats.js'

const SIZES_MB = [1, 50, 200] as const
const ROW_BYTES = 4_000
const ROWS_PER_TXN = 250
const LAG_SAMPLES = Number(process.env.BENCH_LAG_SAMPLES ?? 40)
const CONFIRM_SAMPLES = Number(process.env.BENCH_CONFIRM_SAMPLES ?? 40)
const BURST_COMMITS = 2_000
const HIBERNATE_SAMPLES = Number(process.env.BENCH_HIBERNATE_SAMPLES ?? 10)
/** Comma-separated subset of `restore,lag,stop,confirm,burst,hibernate` (all by default). */
const CASES = new Set(
  (process.env.BENCH_CASES ?? 'restore,lag,stop,confirm,burst,hibernate').split(','),
)
const STOP_SAMPLES = 5
const INTERVALS = {
  default: { syncIntervalMs: 1_000, monitorIntervalMs: 1_000 },
  tuned: { syncIntervalMs: 200, monitorIntervalMs: 100 },
  fast: { syncIntervalMs: 100, monitorIntervalMs: 50 },
} as const

const round = (value: number, digits = 1): number => roundTo(value, digits)
/** Latency samples' summary (the system bench's), to 0.1 ms. */
const summary = (values: readonly number[]): Summary => summarize(values, 1)

/** Insert about `sizeMb` MB of random rows in transactions of ROWS_PER_TXN rows. */
function fill(dbPath: string, sizeMb: number): void {
  const db = openSqlite(dbPath)
  try {
    db.exec('CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)')
    const insert = db.prepare('INSERT INTO items (payload) VALUES (randomblob(?))')
    const batch = db.transaction((rows: number) => {
      for (let i = 0; i < rows; i++) insert.run(ROW_BYTES)
    })
    const rows = Math.ceil((sizeMb * 1024 * 1024) / ROW_BYTES)
    for (let done = 0; done < rows; done += ROWS_PER_TXN) batch(Math.min(ROWS_PER_TXN, rows - done))
  } finally {
    db.close()
  }
}

function checkpoint(dbPath: string): void {
  const db = openSqlite(dbPath)
  try {
    db.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    db.close()
  }
}

async function restoreCase(
  root: string,
  storage: StorageConfig,
  sizeMb: number,
  shape: 'snapshotOnly' | 'snapshotPlusWal',
): Promise<{ ms: number; dbBytes: number }> {
  const id = `restore-${sizeMb}-${shape.toLowerCase()}`
  const dir = join(root, id)
  mkdirSync(dir)
  const dbPath = join(dir, 'tenant.db')
  const replica = tenantReplica(storage, id)
  if (shape === 'snapshotOnly') {
    fill(dbPath, sizeMb)
    checkpoint(dbPath)
  } else {
    fill(dbPath, 0)
  }
  const replicator = await replicate(dbPath, replica, INTERVALS.fast)
  if (shape === 'snapshotPlusWal') {
    // Let Litestream snapshot the empty table first, or a writer that never pauses keeps it
    // from opening the database and everything lands in one big snapshot instead.
    await waitFor(() => replicator.logs().some((line) => line.includes('snapshot written')), {
      timeoutMs: 30_000,
      what: 'the first snapshot',
    })
    fill(dbPath, sizeMb)
  }
  await replicator.stopVerified({ timeoutMs: 300_000 })
  const target = join(root, `${id}-restored`, 'tenant.db')
  const started = performance.now()
  const { restored } = await restore(replica, target)
  const ms = performance.now() - started
  if (!restored) throw new Error(`bench: ${id} did not restore`)
  const dbBytes = statSync(target).size
  rmSync(dir, { recursive: true, force: true })
  rmSync(join(root, `${id}-restored`), { recursive: true, force: true })
  return { ms: round(ms), dbBytes }
}

async function lagCase(
  root: string,
  storage: StorageConfig,
  name: keyof typeof INTERVALS,
): Promise<ReturnType<typeof summary> & { nudges: number }> {
  const dir = join(root, `lag-${name}`)
  mkdirSync(dir)
  const dbPath = join(dir, 'tenant.db')
  fill(dbPath, 0)
  const replica: ReplicaLocation = tenantReplica(storage, `lag-${name}`)
  return withReplicaStore(storage, (store) => lagSamples(dbPath, replica, store, name))
}

async function lagSamples(
  dbPath: string,
  replica: ReplicaLocation,
  store: ReplicaStore,
  name: keyof typeof INTERVALS,
): Promise<ReturnType<typeof summary> & { nudges: number }> {
  const walKeys = async (): Promise<number> =>
    (await store.list(`${replica.path}/generations/`)).filter((o) => o.key.includes('/wal/')).length
  const replicator = await replicate(dbPath, replica, INTERVALS[name])
  const db = openSqlite(dbPath)
  const lags: number[] = []
  try {
    await waitFor(async () => (await walKeys()) > 0, { timeoutMs: 30_000, what: 'first upload' })
    const cycleMs = INTERVALS[name].syncIntervalMs + INTERVALS[name].monitorIntervalMs
    for (let i = 0; i < LAG_SAMPLES; i++) {
      // A random pause spreads the commits over the sync cycle (sampling, not synchronisation).
      await new Promise((resolve) => setTimeout(resolve, Math.random() * cycleMs))
      const before = await walKeys()
      db.prepare('INSERT INTO items (payload) VALUES (randomblob(100))').run()
      const committed = performance.now()
      await waitFor(async () => (await walKeys()) > before, {
        timeoutMs: 30_000,
        intervalMs: 2,
        what: 'upload',
      }).catch((err: unknown) => {
        throw new Error(`lag ${name} sample ${i}: ${String(err)}`, { cause: err })
      })
      lags.push(performance.now() - committed)
    }
  } finally {
    db.close()
    await replicator.stop()
  }
  // Commits whose upload Litestream missed and the stall watch had to nudge (see README).
  const nudges = replicator.logs().filter((line) => line.includes('nudged litestream')).length
  return { ...summary(lags), nudges }
}

async function stopVerifiedCase(
  root: string,
  storage: StorageConfig,
): Promise<ReturnType<typeof summary>> {
  const times: number[] = []
  for (let i = 0; i < STOP_SAMPLES; i++) {
    const dir = join(root, `stop-${i}`)
    mkdirSync(dir)
    const dbPath = join(dir, 'tenant.db')
    fill(dbPath, 1)
    const replicator = await replicate(dbPath, tenantReplica(storage, `stop-${i}`))
    // A worker has been replicating for a while before it hibernates: wait for the first sync.
    await waitFor(() => replicator.logs().some((line) => line.includes('wal segment written')), {
      timeoutMs: 30_000,
    })
    fill(dbPath, 0.05)
    times.push((await replicator.stopVerified()).durationMs)
  }
  return summary(times)
}

/** A fresh 1-row tenant replicating with `intervals`, and a connection to write with. */
async function freshTenant(
  root: string,
  storage: StorageConfig,
  id: string,
  intervals: { syncIntervalMs: number; monitorIntervalMs: number },
  sizeMb = 0,
): Promise<{ dbPath: string; replicator: Replicator }> {
  const dir = join(root, id)
  mkdirSync(dir)
  const dbPath = join(dir, 'tenant.db')
  fill(dbPath, sizeMb)
  const replicator = await replicate(dbPath, tenantReplica(storage, id), intervals)
  return { dbPath, replicator }
}

function commitOne(db: ReturnType<typeof openSqlite>): void {
  db.prepare('INSERT INTO items (payload) VALUES (randomblob(100))').run()
}

async function confirmCase(
  root: string,
  storage: StorageConfig,
  name: 'default' | 'tuned',
): Promise<ReturnType<typeof summary> & { s3RequestsPerCommit: number }> {
  const { dbPath, replicator } = await freshTenant(root, storage, `confirm-${name}`, INTERVALS[name])
  const db = openSqlite(dbPath)
  const latencies: number[] = []
  try {
    commitOne(db)
    await replicator.confirmed(replicator.lastCommit(), { timeoutMs: 30_000 })
    const before = replicator.watcherStats()
    const cycleMs = INTERVALS[name].syncIntervalMs + INTERVALS[name].monitorIntervalMs
    for (let i = 0; i < CONFIRM_SAMPLES; i++) {
      // A random pause spreads the commits over the sync cycle (sampling, not synchronisation).
      await new Promise((resolve) => setTimeout(resolve, Math.random() * cycleMs))
      commitOne(db)
      const committed = performance.now()
      await replicator.confirmed(replicator.lastCommit(), { timeoutMs: 30_000 })
      latencies.push(performance.now() - committed)
    }
    const after = replicator.watcherStats()
    const requests = after.listRequests + after.getRequests - before.listRequests - before.getRequests
    return { ...summary(latencies), s3RequestsPerCommit: round(requests / CONFIRM_SAMPLES, 2) }
  } finally {
    db.close()
    await replicator.stop()
  }
}

async function burstCase(root: string, storage: StorageConfig): Promise<Record<string, number>> {
  const { dbPath, replicator } = await freshTenant(root, storage, 'burst', INTERVALS.default)
  const db = openSqlite(dbPath)
  try {
    commitOne(db)
    await replicator.confirmed(replicator.lastCommit(), { timeoutMs: 30_000 })
    const before = replicator.watcherStats()
    const started = performance.now()
    const confirmedAt: number[] = []
    const waits = []
    for (let i = 0; i < BURST_COMMITS; i++) {
      commitOne(db)
      const committedAt = performance.now()
      waits.push(
        replicator
          .confirmed(replicator.lastCommit(), { timeoutMs: 60_000 })
          .then(() => confirmedAt.push(performance.now() - committedAt)),
      )
    }
    const committedMs = performance.now() - started
    await Promise.all(waits)
    const totalMs = performance.now() - started
    const after = replicator.watcherStats()
    const lists = after.listRequests - before.listRequests
    const gets = after.getRequests - before.getRequests
    const added = summary(confirmedAt)
    return {
      commits: BURST_COMMITS,
      committedInMs: round(committedMs),
      allConfirmedInMs: round(totalMs),
      confirmedPerSecond: round(BURST_COMMITS / (totalMs / 1000)),
      addedLatencyP50Ms: added.p50,
      addedLatencyP99Ms: added.p99,
      rounds: after.rounds - before.rounds,
      listRequests: lists,
      getRequests: gets,
      s3RequestsPerConfirmedCommit: round((lists + gets) / BURST_COMMITS, 4),
    }
  } finally {
    db.close()
    await replicator.stop()
  }
}

async function hibernateCase(
  root: string,
  storage: StorageConfig,
  shape: 'steady' | 'fresh',
): Promise<ReturnType<typeof summary> & { confirmedMs: ReturnType<typeof summary> }> {
  const times: number[] = []
  const confirmed: number[] = []
  for (let i = 0; i < HIBERNATE_SAMPLES; i++) {
    const { dbPath, replicator } = await freshTenant(root, storage, `hib-${shape}-${i}`, INTERVALS.default, 1)
    if (shape === 'steady') {
      await waitFor(() => replicator.logs().some((line) => line.includes('wal segment written')), {
        timeoutMs: 30_000,
      })
      // Anywhere in the sync cycle, as an idle timeout would strike.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 1_000))
    }
    fill(dbPath, 0.05)
    const result = await replicator.stopVerified()
    times.push(result.durationMs)
    const note = replicator.logs().find((line) => line.includes('final sync confirmed in S3 in'))
    confirmed.push(Number(/in (\d+) ms/.exec(note ?? '')?.[1] ?? Number.NaN))
  }
  return { ...summary(times), confirmedMs: summary(confirmed) }
}

async function main(): Promise<void> {
  const loadAtStart = round(os.loadavg()[0] ?? 0, 2)
  const root = mkdtempSync(join(os.tmpdir(), 'litecell-bench-replica-'))
  const s3 = await startEmbeddedS3({ dir: join(root, 's3') })
  const storage = s3.storage('bench')
  try {
    const litestream = await resolveLitestream()
    const restoreMs: Record<string, Record<string, { ms: number; dbBytes: number }>> = {}
    for (const sizeMb of CASES.has('restore') ? SIZES_MB : []) {
      restoreMs[`${sizeMb}MB`] = {
        snapshotOnly: await restoreCase(root, storage, sizeMb, 'snapshotOnly'),
        snapshotPlusWal: await restoreCase(root, storage, sizeMb, 'snapshotPlusWal'),
      }
    }
    const lagMs: Record<string, unknown> = {}
    for (const name of CASES.has('lag')
      ? (Object.keys(INTERVALS) as (keyof typeof INTERVALS)[])
      : []) {
      lagMs[name] = { ...INTERVALS[name], ...(await lagCase(root, storage, name)) }
    }
    const stopVerifiedMs = CASES.has('stop')
      ? { tenantMB: 1, ...(await stopVerifiedCase(root, storage)) }
      : null
    const confirmMs: Record<string, unknown> = {}
    for (const name of CASES.has('confirm') ? (['default', 'tuned'] as const) : []) {
      confirmMs[name] = { ...INTERVALS[name], ...(await confirmCase(root, storage, name)) }
    }
    const burst = CASES.has('burst') ? { ...INTERVALS.default, ...(await burstCase(root, storage)) } : null
    const hibernateAfterWritesMs = CASES.has('hibernate')
      ? {
          tenantMB: 1,
          ...INTERVALS.default,
          steady: await hibernateCase(root, storage, 'steady'),
          fresh: await hibernateCase(root, storage, 'fresh'),
        }
      : null
    const cpus = os.cpus()
    console.log(
      JSON.stringify(
        {
          machine: {
            cpu: cpus[0]?.model ?? 'unknown',
            cores: cpus.length,
            memoryGB: round(os.totalmem() / 1024 ** 3),
            platform: `${os.platform()} ${os.release()} ${os.arch()}`,
            node: process.version,
            litestream: litestream.version,
            storage: 'embedded s3rver on 127.0.0.1, same machine',
            loadAverage1m: { atStart: loadAtStart, atEnd: round(os.loadavg()[0] ?? 0, 2) },
          },
          restoreMs,
          lagMs,
          stopVerifiedMs,
          confirmMs,
          burst,
          hibernateAfterWritesMs,
          targets: {
            restore50MBms: 1_000,
            tunedLagP50ms: 150,
            stopVerified1MBms: 1_000,
            confirmDefaultP50ms: INTERVALS.default.syncIntervalMs + 150,
            confirmTunedP50ms: 250,
            burstS3RequestsPerCommit: 0.05,
            hibernateAfterWritesP50ms: 500,
          },
        },
        null,
        2,
      ),
    )
  } finally {
    await s3.stop()
    rmSync(root, { recursive: true, force: true })
  }
}

await main()
