/**
 * The machine-loss drill of `replicated-acknowledgements-survive-machine-loss.test.ts` with
 * the Kubernetes launcher (issue 11): a real control plane whose workers are pods of the fake
 * Kubernetes API (`@litecell/testkit/kubernetes`: each pod a real process group with its own
 * folder standing in for its emptyDir), real Litestream and the embedded S3 server. A tenant
 * created without a durability is `replicated` there. Right after the last acknowledgement the
 * pod's whole process group is SIGKILLed and its folder deleted (a crashed pod loses its local
 * files); the next request starts a new pod that restores from S3: every acknowledged run
 * exists, every run reported finished is finished with the same output, and the ledger rows
 * match the finished runs exactly.
 *
 * Catches: pods that do not default to `replicated`, and a 202 or a final status sent by a pod
 * before S3 holds it (acknowledged runs or reported results missing in the next pod).
 */
import { startPodControlPlane, type PodControlPlane } from '@litecell/testkit/kubernetes'
import { expectNothingAcknowledgedLost, runMachineLoss, vanish } from '@litecell/testkit/machine-loss'
import { afterAll, expect, test } from 'vitest'

let world: PodControlPlane | undefined

afterAll(async () => {
  await world?.stop()
})

test('replicated by default with pods: every acknowledged run and every reported result survives the loss of the pod', async () => {
  world = await startPodControlPlane({
    clusterToken: 'sa-token-pod-loss',
    adminToken: 'lca_pod-loss-admin',
    storagePrefix: 'pod-loss',
    config: {
      idleMs: 120_000,
      // A long lease: on a loaded machine a late heartbeat would fence the pod mid-drill.
      leaseTtlMs: 30_000,
    },
  })
  const { admin } = world
  const { fake } = world.cluster
  await admin.createTenant({ id: 'podded' })
  expect((await admin.getTenant('podded')).durability).toBe('replicated')
  await admin.wakeTenant('podded')
  const [pod, ...others] = [...fake.pods.values()].filter(
    (candidate) => candidate.object.metadata.labels['litecell.dev/tenant'] === 'podded',
  )
  expect(others).toEqual([])

  const report = await runMachineLoss({
    client: admin,
    tenantId: 'podded',
    // The container's PID namespace (the worker and its Litestream) and its emptyDir.
    loseMachine: () => vanish(pod!.child!.pid!, pod!.dir),
  })
  console.log(
    JSON.stringify({
      podLoss: {
        durability: 'replicated',
        ...report,
        lostAcknowledged: report.lostAcknowledged.length,
      },
    }),
  )
  expectNothingAcknowledgedLost(report)
  // The runs after the loss were served by a second pod.
  const podsOfTenant = fake.calls.filter(
    (call) => call.method === 'POST' && call.path.endsWith('/pods') && call.status === 201,
  )
  expect(podsOfTenant.length).toBeGreaterThanOrEqual(2)
})
