/**
 * Invariant 4 with durability `replicated` (issue 11): nothing a client was told is lost, even
 * when the machine is. 500 runs of a 3-step workflow (the middle step a `ctx.transaction`)
 * are submitted over about 3 s by 5 clients that record every acknowledgement, while a
 * reporter records every final result the API shows. Right after the last acknowledgement the
 * worker's whole process group (Litestream included) is SIGKILLed and the tenant's folder
 * deleted, as if the machine had vanished. The next request wakes the tenant from S3: every
 * acknowledged run exists, every run reported finished is finished with the same output, and
 * the ledger rows match the finished runs exactly.
 *
 * Catches: a 202 or a final status sent before S3 holds it (acknowledged runs or reported
 * results missing after the wake), and a transaction replayed twice or lost. The same drill in
 * `local` mode prints how many acknowledged runs it lost: the difference the setting makes.
 * The Kubernetes launcher's drill (pods of the fake API) is in
 * `replicated-acknowledgements-survive-pod-loss.test.ts`.
 */
import { join } from 'node:path'
import { expect, onTestFinished, test } from 'vitest'
import {
  expectNothingAcknowledgedLost,
  runMachineLoss,
  vanish,
  type MachineLossReport,
} from '@litecell/testkit/machine-loss'
import { ReplicatorWatch, useServer } from '@litecell/testkit/e2e'

// A long lease: on a loaded machine a late heartbeat would fence the worker mid-drill.
const server = useServer({ env: { LITECELL_IDLE_MS: '120000', LITECELL_LEASE_TTL_MS: '30000' } })

/** Creates an awake tenant of `durability`, runs the drill on it and prints the figures. */
async function drill(
  tenantId: string,
  durability: 'local' | 'replicated',
): Promise<MachineLossReport> {
  const { admin } = server
  await admin.createTenant({ id: tenantId, app: 'test', durability })
  await admin.wakeTenant(tenantId)
  const pid = (await admin.getTenant(tenantId)).worker!.pid!
  const replicators = new ReplicatorWatch(join(server.dataDir, 'tenants', tenantId))
  onTestFinished(() => replicators.stop())
  const report = await runMachineLoss({
    client: admin,
    tenantId,
    // The worker leads its own process group, which holds its Litestream.
    loseMachine: () => vanish(pid, join(server.dataDir, 'tenants', tenantId)),
  })
  console.log(
    JSON.stringify({
      machineLoss: { durability, ...report, lostAcknowledged: report.lostAcknowledged.length },
    }),
  )
  expect(replicators.mostOnOneReplica, `replicators on one tenant at once: ${replicators.crowded}`).toBe(1)
  return report
}

test('replicated: every acknowledged run and every reported result survives the loss of the machine', async () => {
  const report = await drill('safe', 'replicated')
  expectNothingAcknowledgedLost(report)
})

test('local: the same loss, with the acknowledged runs it lost printed as a figure', async () => {
  const report = await drill('fast', 'local')
  expect(report.lostAfterLastAckMs).toBeLessThan(50)
  // What survived is consistent; how much was lost is the figure printed above.
  expect(report.ledgerMismatches).toEqual([])
})
