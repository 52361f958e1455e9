/**
 * A real ControlPlane, real workers, real Litestream and the embedded S3 server, with every
 * worker a pod of the fake Kubernetes API (`@litecell/testkit/kubernetes`).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { LitecellClient } from '@litecell/client'
import { startEmbeddedS3, type EmbeddedS3 } from '@litecell/replica'
import { startFakeCluster, type FakeCluster } from '@litecell/testkit/kubernetes'
import pino from 'pino'
import { afterAll, describe, expect, test } from 'vitest'
import { ControlPlane } from '../control-plane.js'
import { KubernetesLauncher } from './kubernetes-launcher.js'

let cluster: FakeCluster | undefined

describe('control plane with pods', () => {
  let s3: EmbeddedS3
  let controlPlane: ControlPlane | undefined

  afterAll(async () => {
    await controlPlane?.stop()
    await s3?.stop()
    await cluster?.stop()
  })

  test('a tenant whose worker is a pod is created, runs a workflow, hibernates, wakes from S3 and forks', async () => {
    cluster = await startFakeCluster({ namespace: 'litecell', token: 'sa-token-never-printed' })
    const { fake, dir } = cluster
    s3 = await startEmbeddedS3({ dir: join(dir, 's3') })
    const adminToken = 'lca_k8s-test-admin'
    controlPlane = await ControlPlane.start(
      {
        port: 0,
        host: '127.0.0.1',
        dataDir: join(dir, 'control-plane'),
        apps: { default: resolve(import.meta.dirname, '../../../../test/apps/test-app.ts') },
        adminToken,
        storage: s3.storage('k8s-test'),
        embeddedS3Port: 0,
        maxWorkers: 4,
        idleMs: 60_000,
        leaseTtlMs: 8_000,
        syncIntervalMs: 200,
        workerMaxOldSpaceMb: 256,
        standbyWorkers: 0,
      },
      {
        launcher: new KubernetesLauncher({
          connection: cluster.connection,
          image: 'registry.example.com/litecell:test',
        }),
        log: pino({ level: 'silent' }),
      },
    )
    const api = new LitecellClient({ baseUrl: controlPlane.url, token: adminToken })
    await api.createTenant({ id: 'podded' })
    const { runId } = await api.startRun('podded', { workflow: 'quick', input: { n: 41 } })
    const run = await api.runResult('podded', runId, { waitMs: 30_000 })
    expect(run).toMatchObject({ status: 'succeeded', output: 42 })
    const pods = [...fake.pods.values()].filter(
      (pod) => pod.object.metadata.labels['litecell.dev/tenant'] === 'podded',
    )
    expect(pods).toHaveLength(1)
    const podIp = pods[0]!.object.status.podIP
    expect(controlPlane.fleet.workerView('podded')?.url).toBe(`http://${podIp}:8080`)

    const hibernated = await api.hibernateTenant('podded')
    expect(hibernated.state).toBe('hibernated')
    expect([...fake.pods.keys()].filter((name) => name.startsWith('litecell-podded-'))).toEqual([])
    expect(readFileSync(join(dir, 'control-plane', 'logs', 'podded.log'), 'utf8')).toContain(
      'worker ready',
    )

    // Woken again, from S3 only (the first pod's emptyDir is gone): the run is still there.
    await api.wakeTenant('podded')
    expect(await api.getRun('podded', runId)).toMatchObject({
      status: 'succeeded',
      output: 42,
    })

    // A fork's pod restores the source's replica itself: the control plane holds no file.
    await api.forkTenant('podded', { id: 'podded-copy' })
    expect(await api.getRun('podded-copy', runId)).toMatchObject({
      status: 'succeeded',
      output: 42,
    })
    // A pod's log reaches the tenant's log when the pod ends.
    await api.hibernateTenant('podded-copy')
    expect(readFileSync(join(dir, 'control-plane', 'logs', 'podded-copy.log'), 'utf8')).toContain(
      '"source":"fork of podded at',
    )
    expect(existsSync(join(dir, 'control-plane', 'tenants', 'podded-copy'))).toBe(false)
  })
})
