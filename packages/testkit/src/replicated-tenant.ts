/**
 * A tenant's worker parts in the test's own process, with real replication: the engine, a
 * real Litestream replicating to the fixture's embedded S3 server (which records every PUT),
 * and the real tenant API with replicated acknowledgements (`TenantReplication`), reached
 * through `app.request()`. What the worker process adds (lease, idle hibernation, the
 * control plane) is left out: the worker package's replicated-acknowledgement tests use it.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Engine, type AppDefinition, type EngineObserver } from '@litecell/engine'
import { TENANT_DURABILITY_HEADER, WORKER_SECRET_HEADER, type Durability } from '@litecell/protocol'
import {
  replicate,
  tenantReplica,
  type ReplicaLocation,
  type ReplicateOptions,
  type Replicator,
} from '@litecell/replica'
import { RunStatusStream, TenantReplication, createTenantApi } from '@litecell/worker'
import type { Hono } from 'hono'
import { TestFixture } from './replica-fixture.js'

const SECRET = 'lcw_replicated-tenant-test'

/** Options of {@link ReplicatedTenant.start}. */
export interface ReplicatedTenantOptions {
  readonly app: AppDefinition
  /** Litestream's intervals. @default 200 ms sync, 100 ms monitor */
  readonly replication?: Pick<ReplicateOptions, 'syncIntervalMs' | 'monitorIntervalMs'>
  readonly ackTimeoutMs?: number
  /** More engine callbacks (the harness feeds the run stream and the ledger itself). */
  readonly observer?: EngineObserver
}

/** One answer of the tenant API. */
export interface TenantReply {
  readonly status: number
  readonly headers: Headers
  readonly body: any
}

/** See the file comment. */
export class ReplicatedTenant {
  readonly fx: TestFixture
  readonly dbPath: string
  readonly replica: ReplicaLocation
  readonly engine: Engine
  readonly replicator: Replicator
  readonly replication: TenantReplication
  readonly runStream: RunStatusStream
  readonly api: Hono

  private constructor(parts: {
    fx: TestFixture
    dbPath: string
    replica: ReplicaLocation
    engine: Engine
    replicator: Replicator
    replication: TenantReplication
    runStream: RunStatusStream
  }) {
    this.fx = parts.fx
    this.dbPath = parts.dbPath
    this.replica = parts.replica
    this.engine = parts.engine
    this.replicator = parts.replicator
    this.replication = parts.replication
    this.runStream = parts.runStream
    this.api = createTenantApi({
      tenantId: 'acme',
      engine: parts.engine,
      workerSecret: SECRET,
      scratchDir: join(parts.fx.dir, 'live'),
      isStopping: () => false,
      hibernate: async () => 1,
      syncPoint: async () => ({ at: new Date().toISOString() }),
      runStream: parts.runStream,
      replication: parts.replication.replication,
    })
  }

  /** A fresh fixture (embedded S3 recording PUTs), engine, Litestream and tenant API. */
  static async start(options: ReplicatedTenantOptions): Promise<ReplicatedTenant> {
    const fx = await TestFixture.create('replicated-tenant')
    await mkdir(fx.path('live'))
    const dbPath = fx.path('live', 'tenant.db')
    const runStream = new RunStatusStream('acme')
    const replication = new TenantReplication({
      runStream,
      ...(options.ackTimeoutMs !== undefined ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
    })
    const engine = await Engine.open({
      path: dbPath,
      app: options.app,
      confirmDurable: replication.confirmDurable,
      observer: {
        ...options.observer,
        onRunStatus: (runId, workflow, status) => {
          options.observer?.onRunStatus?.(runId, workflow, status)
          runStream.publish(runId, workflow, status)
          replication.observe(runId, workflow, status)
        },
      },
    })
    const replica = tenantReplica(fx.s3.storage('test'), 'acme')
    const replicator = await replicate(
      dbPath,
      replica,
      options.replication ?? { syncIntervalMs: 200, monitorIntervalMs: 100 },
    )
    replication.attach(replicator)
    return new ReplicatedTenant({ fx, dbPath, replica, engine, replicator, replication, runStream })
  }

  /** One request to the tenant API as the control plane sends it, for a tenant of `durability`. */
  async request(
    method: string,
    path: string,
    options: { durability?: Durability; body?: unknown } = {},
  ): Promise<TenantReply> {
    const response = await this.api.request(`/v1/tenants/acme${path}`, {
      method,
      headers: {
        [WORKER_SECRET_HEADER]: SECRET,
        [TENANT_DURABILITY_HEADER]: options.durability ?? 'replicated',
        'content-type': 'application/json',
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    })
    const text = await response.text()
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = text
    }
    return { status: response.status, headers: response.headers, body }
  }

  /** Stops everything and removes the fixture (Litestream killed, no final sync). */
  async dispose(): Promise<void> {
    this.replication.close()
    this.replicator.kill()
    await this.engine.close().catch(() => undefined)
    await this.fx.dispose()
  }
}
