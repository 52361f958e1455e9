import { join } from 'node:path'
import { LitecellClient } from '@litecell/client'
import { ControlPlane, type ControlPlaneConfig } from '@litecell/control-plane'
import { KubernetesLauncher } from '@litecell/control-plane/kubernetes'
import { startEmbeddedS3, type EmbeddedS3 } from '@litecell/replica'
import pino from 'pino'
import { TEST_APP_PATH } from '../e2e.js'
import { startFakeCluster, type FakeCluster } from './fake-cluster.js'

/** Options of {@link startPodControlPlane}. */
export interface PodControlPlaneOptions {
  /** The fake API's bearer token (never printed, which a test may check). */
  readonly clusterToken: string
  /** The admin token of the control plane. */
  readonly adminToken: string
  /** Prefix of the replicas in the embedded S3 server. */
  readonly storagePrefix: string
  /** Settings that differ from the defaults below (`idleMs`, `leaseTtlMs`, …). */
  readonly config?: Partial<ControlPlaneConfig>
}

/** A real control plane whose workers are pods of a fake cluster, and what it stands on. */
export interface PodControlPlane {
  readonly cluster: FakeCluster
  readonly s3: EmbeddedS3
  readonly controlPlane: ControlPlane
  /** An admin client of the control plane. */
  readonly admin: LitecellClient
  /** Stops the control plane, the S3 server and the cluster (removing its folder). */
  stop(): Promise<void>
}

/**
 * Starts a fake cluster (namespace `litecell`), the embedded S3 server in its folder, and a
 * real {@link ControlPlane} running the test app whose launcher makes pods there: what the
 * Kubernetes-launcher tests of the control plane and of `test/` share.
 */
export async function startPodControlPlane(
  options: PodControlPlaneOptions,
): Promise<PodControlPlane> {
  const cluster = await startFakeCluster({ namespace: 'litecell', token: options.clusterToken })
  let s3: EmbeddedS3 | undefined
  try {
    s3 = await startEmbeddedS3({ dir: join(cluster.dir, 's3') })
    const controlPlane = await ControlPlane.start(
      {
        port: 0,
        host: '127.0.0.1',
        dataDir: join(cluster.dir, 'control-plane'),
        apps: { default: TEST_APP_PATH },
        adminToken: options.adminToken,
        storage: s3.storage(options.storagePrefix),
        embeddedS3Port: 0,
        maxWorkers: 4,
        idleMs: 60_000,
        leaseTtlMs: 8_000,
        syncIntervalMs: 200,
        workerMaxOldSpaceMb: 256,
        standbyWorkers: 0,
        ...options.config,
      },
      {
        launcher: new KubernetesLauncher({
          connection: cluster.connection,
          image: 'registry.example.com/litecell:test',
        }),
        log: pino({ level: 'silent' }),
      },
    )
    const started = s3
    return {
      cluster,
      s3: started,
      controlPlane,
      admin: new LitecellClient({ baseUrl: controlPlane.url, token: options.adminToken }),
      async stop() {
        await controlPlane.stop()
        await started.stop()
        await cluster.stop()
      },
    }
  } catch (err) {
    await s3?.stop()
    await cluster.stop()
    throw err
  }
}
