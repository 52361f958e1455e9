/**
 * `pnpm bench:acks`: what replicated acknowledgements (issue 11) cost, on this machine, with
 * real Litestream and the embedded S3 server on loopback, printed as JSON.
 *
 * - ackMs: a run start (`POST /runs` of a three-step workflow) answered by the real tenant API
 *   in-process (`@litecell/testkit/replicated-tenant`: engine, Litestream, TenantReplication),
 *   `local` and `replicated`, ACK_SAMPLES of each spread at random over the sync cycle, one at
 *   a time; `addedP50Ms` is replicated p50 − local p50. At Litestream's default intervals
 *   (1 s sync, 1 s monitor) and at 200 ms sync / 100 ms monitor.
 * - burst: BURST_RUNS starts sent at once, replicated, default intervals: time until every one
 *   is acknowledged, acknowledgements per second, and S3 requests per acknowledged run (the
 *   position watcher's LIST + GET, which acknowledgements add; Litestream's own PUTs are
 *   listed apart, it makes them in either mode). The same burst acknowledged `local` is the
 *   baseline (the API and the engine on this machine, without waiting for S3). `batched*`:
 *   the same runs as BURST_BATCHES batches sent at once (`POST /runs/batch`).
 *   The embedded S3 server runs in the bench's process, sharing its event loop with the
 *   engine and the API (in production S3 is elsewhere).
 * - registryCreateMs: `POST /v1/tenants` through a real `litecell serve` (the registry answers
 *   once its change is in S3, its own 100 ms sync interval): CREATE_SAMPLES one at a time
 *   (p50/p99), then CREATE_BURST with CREATE_CONCURRENCY in flight (creates per second).
 *
 * Hibernation right after writes is `pnpm bench:replica`'s `hibernateAfterWritesMs`.
 */
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { defineApp } from '@litecell/engine'
import { ReplicatedTenant } from '@litecell/testkit/replicated-tenant'
import { LitecellServer } from '@litecell/testkit/server'
import { delay, round as roundTo, summarize, type Summary } from './system/stats.js'

const ACK_SAMPLES = Number(process.env.BENCH_ACK_SAMPLES ?? 40)
const BURST_RUNS = Number(process.env.BENCH_BURST_RUNS ?? 2_000)
const BURST_BATCHES = 20
const CREATE_SAMPLES = Number(process.env.BENCH_CREATE_SAMPLES ?? 50)
const CREATE_BURST = Number(process.env.BENCH_CREATE_BURST ?? 1_000)
const CREATE_CONCURRENCY = 50
/** Comma-separated subset of `ack,burst,create` (all by default). */
const CASES = new Set((process.env.BENCH_CASES ?? 'ack,burst,create').split(','))
const INTERVALS = {
  default: { syncIntervalMs: 1_000, monitorIntervalMs: 1_000 },
  tuned: { syncIntervalMs: 200, monitorIntervalMs: 100 },
} as const

const app = defineApp({
  migrations: ['CREATE TABLE ledger (run_id TEXT NOT NULL)'],
  workflows: {
    threeSteps: async (ctx, input) => {
      const a = await ctx.step('a', () => (input as { n: number }).n)
      await ctx.transaction('ledger', (tx) => {
        tx.execute('INSERT INTO ledger (run_id) VALUES (?)', [ctx.runId])
      })
      return ctx.step('c', () => a + 1)
    },
  },
})

const round = (value: number, digits = 1): number => roundTo(value, digits)
/** Latency samples' summary (the system bench's), to 0.1 ms. */
const summary = (values: readonly number[]): Summary => summarize(values, 1)

/** Sends one start and returns how long its answer took; throws unless it is a 202. */
async function timedStart(
  tenant: ReplicatedTenant,
  n: number,
  durability: 'local' | 'replicated',
): Promise<number> {
  const started = performance.now()
  const reply = await tenant.request('POST', '/runs', {
    body: { workflow: 'threeSteps', input: { n }, durability },
  })
  if (reply.status !== 202)
    throw new Error(`start ${durability} → ${reply.status} ${JSON.stringify(reply.body)}`)
  return performance.now() - started
}

async function ackCase(name: keyof typeof INTERVALS): Promise<Record<string, unknown>> {
  const tenant = await ReplicatedTenant.start({ app, replication: INTERVALS[name] })
  try {
    await timedStart(tenant, 0, 'replicated')
    const cycleMs = INTERVALS[name].syncIntervalMs + INTERVALS[name].monitorIntervalMs
    const local: number[] = []
    const replicated: number[] = []
    for (let i = 0; i < ACK_SAMPLES; i++) {
      // Random pauses spread the starts over the sync cycle (sampling, not synchronisation).
      await delay(Math.random() * cycleMs)
      local.push(await timedStart(tenant, i, 'local'))
      await delay(Math.random() * cycleMs)
      replicated.push(await timedStart(tenant, i, 'replicated'))
    }
    const replicatedSummary = summary(replicated)
    const localSummary = summary(local)
    return {
      ...INTERVALS[name],
      local: localSummary,
      replicated: replicatedSummary,
      addedP50Ms: round(replicatedSummary.p50 - localSummary.p50),
      addedP99Ms: round(replicatedSummary.p99 - localSummary.p99),
    }
  } finally {
    await tenant.dispose()
  }
}

async function burstCase(durability: 'local' | 'replicated'): Promise<Record<string, unknown>> {
  const tenant = await ReplicatedTenant.start({ app, replication: INTERVALS.default })
  try {
    await timedStart(tenant, 0, 'replicated')
    const before = tenant.replicator.watcherStats()
    const putsBefore = tenant.fx.puts.length
    const started = performance.now()
    const ackMs = await Promise.all(
      Array.from({ length: BURST_RUNS }, (_, n) => timedStart(tenant, n, durability)),
    )
    const allAcknowledgedMs = performance.now() - started
    const after = tenant.replicator.watcherStats()
    const watcherRequests =
      after.listRequests + after.getRequests - before.listRequests - before.getRequests
    return {
      ...INTERVALS.default,
      runs: BURST_RUNS,
      allAcknowledgedInMs: round(allAcknowledgedMs),
      acknowledgedPerSecond: round(BURST_RUNS / (allAcknowledgedMs / 1000)),
      ackMs: summary(ackMs),
      watcherRounds: after.rounds - before.rounds,
      watcherS3Requests: watcherRequests,
      s3RequestsPerAcknowledgedRun: round(watcherRequests / BURST_RUNS, 4),
      litestreamPutsDuringBurst: tenant.fx.puts.length - putsBefore,
    }
  } finally {
    await tenant.dispose()
  }
}

/** The burst as BURST_BATCHES batches sent at once (`POST /runs/batch`, one commit each). */
async function batchBurstCase(
  durability: 'local' | 'replicated',
  intervals: keyof typeof INTERVALS = 'default',
): Promise<Record<string, unknown>> {
  const tenant = await ReplicatedTenant.start({ app, replication: INTERVALS[intervals] })
  try {
    await timedStart(tenant, 0, 'replicated')
    const before = tenant.replicator.watcherStats()
    const perBatch = BURST_RUNS / BURST_BATCHES
    const started = performance.now()
    await Promise.all(
      Array.from({ length: BURST_BATCHES }, async (_, b) => {
        const runs = Array.from({ length: perBatch }, (_, i) => ({
          workflow: 'threeSteps',
          input: { n: b * perBatch + i },
        }))
        const reply = await tenant.request('POST', '/runs/batch', { body: { runs, durability } })
        if (reply.status !== 202)
          throw new Error(`batch ${durability} → ${reply.status} ${JSON.stringify(reply.body)}`)
      }),
    )
    const allAcknowledgedMs = performance.now() - started
    const after = tenant.replicator.watcherStats()
    const watcherRequests =
      after.listRequests + after.getRequests - before.listRequests - before.getRequests
    return {
      ...INTERVALS[intervals],
      runs: BURST_RUNS,
      batches: BURST_BATCHES,
      allAcknowledgedInMs: round(allAcknowledgedMs),
      acknowledgedPerSecond: round(BURST_RUNS / (allAcknowledgedMs / 1000)),
      s3RequestsPerAcknowledgedRun: round(watcherRequests / BURST_RUNS, 4),
    }
  } finally {
    await tenant.dispose()
  }
}

async function createCase(): Promise<Record<string, unknown>> {
  const server = await LitecellServer.start({
    label: 'bench-acks',
    env: { LITECELL_STANDBY_WORKERS: '0' },
  })
  try {
    const one: number[] = []
    for (let i = 0; i < CREATE_SAMPLES; i++) {
      const started = performance.now()
      await server.admin.createTenant({ id: `one-${i}` })
      one.push(performance.now() - started)
    }
    let next = 0
    const started = performance.now()
    await Promise.all(
      Array.from({ length: CREATE_CONCURRENCY }, async () => {
        while (next < CREATE_BURST) await server.admin.createTenant({ id: `many-${next++}` })
      }),
    )
    const burstMs = performance.now() - started
    return {
      registrySyncIntervalMs: 100,
      oneAtATime: summary(one),
      burst: {
        creates: CREATE_BURST,
        concurrency: CREATE_CONCURRENCY,
        ms: round(burstMs),
        createsPerSecond: round(CREATE_BURST / (burstMs / 1000)),
      },
    }
  } finally {
    await server.stop()
    await server.removeDataDir()
  }
}

async function main(): Promise<void> {
  const loadAtStart = round(os.loadavg()[0] ?? 0, 2)
  const ackMs: Record<string, unknown> = {}
  for (const name of CASES.has('ack') ? (['default', 'tuned'] as const) : [])
    ackMs[name] = await ackCase(name)
  // The same burst acknowledged `local` is the baseline: what the API and engine take anyway.
  const burst = CASES.has('burst')
    ? {
        replicated: await burstCase('replicated'),
        local: await burstCase('local'),
        batchedReplicated: await batchBurstCase('replicated'),
        batchedLocal: await batchBurstCase('local'),
        batchedReplicatedTuned: await batchBurstCase('replicated', 'tuned'),
      }
    : null
  const registryCreateMs = CASES.has('create') ? await createCase() : null
  const cpus = os.cpus()
  console.log(
    JSON.stringify(
      {
        machine: {
          cpu: cpus[0]?.model ?? 'unknown',
          cores: cpus.length,
          node: process.version,
          storage: 'embedded s3rver on 127.0.0.1, same machine',
          loadAverage1m: { atStart: loadAtStart, atEnd: round(os.loadavg()[0] ?? 0, 2) },
        },
        ackMs,
        burst,
        registryCreateMs,
        targets: {
          addedP50DefaultMs: INTERVALS.default.syncIntervalMs + 150,
          addedP50TunedMs: 250,
          burstAcknowledgedPerSecond: 2_000,
          burstS3RequestsPerAcknowledgedRun: 0.05,
        },
      },
      null,
      2,
    ),
  )
}

await main()
