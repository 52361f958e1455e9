/**
 * A real ControlPlane, real workers, real Litestream and the embedded S3 server, with every
 * worker a pod of the fake Kubernetes API (`@litecell/testkit/kubernetes`).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startPodControlPlane, type PodControlPlane } from '@litecell/testkit/kubernetes'
import { afterAll, describe, expect, test } from 'vitest'

describe('control plane with pods', () => {
  let world: PodControlPlane | undefined

  afterAll(async () => {
    await world?.stop()
  })

  test('a tenant whose worker is a pod is created, runs a workflow, hibernates, wakes from S3 and forks', async () => {
    world = await startPodControlPlane({
      clusterToken: 'sa-token-never-printed',
      adminToken: 'lca_k8s-test-admin',
      storagePrefix: 'k8s-test',
    })
    const { controlPlane, admin: api } = world
    const { fake, dir } = world.cluster
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
