/**
 * A control-plane restart adopts its live worker pods (issue 9, item 10, with the Kubernetes
 * launcher): a real `litecell serve` process whose workers are pods of the fake Kubernetes API
 * (`@litecell/testkit/kubernetes`, reached through a kubeconfig; each pod a real process group
 * of this test process, so it outlives the control plane as a pod outlives its control plane's
 * pod). SIGKILL the control plane while a tenant runs a 10 s workflow, start it again on the
 * same data folder and port: the pod's heartbeats reach the new control plane with their
 * lease epoch, and it follows the pod `litecell-<tenant>-<epoch>` instead of refusing it. The
 * run completes in the one pod that began it, and no second pod for the tenant was ever
 * created.
 *
 * Catches: a Kubernetes launcher without `adopt`, or one whose pod watch has not listed
 * before the first heartbeat after the restart (the guard against adopting a pod that does not
 * exist refuses it then): the pod's heartbeat is refused `LEASE_LOST`, it fences, and a second
 * pod (epoch + 1) is created once the lease ran out, so the run's output, its steps' pids, the
 * pod creates and the pods of the tenant would each name a second one.
 * Mutations run (06:45, 2 cores shared): `KubernetesLauncher.adopt` answering undefined, and
 * `preflight` not starting the watch: each failed at the run's output (another pid).
 */
import { writeFileSync } from 'node:fs'
import { connect, createServer, type Server } from 'node:net'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { startEmbeddedS3, type EmbeddedS3 } from '@litecell/replica'
import { freePort, waitFor } from '@litecell/testkit'
import { startTestServer, type TestServer } from '@litecell/testkit/e2e'
import { startFakeCluster, type FakeCluster } from '@litecell/testkit/kubernetes'

/** As in the local test: long enough for a loaded machine to restart the control plane. */
const LEASE_TTL_MS = 30_000
const STEPS = 10
const STEP_MS = 1_000
const TOKEN = 'sa-token-pod-adoption'

let cluster: FakeCluster
let s3: EmbeddedS3
let kubeconfig = ''
/** S3 as pods reach it: see {@link forwardS3}. */
let s3Endpoint = ''
let forwarder: Server | undefined
const servers: TestServer[] = []

beforeAll(async () => {
  cluster = await startFakeCluster({ namespace: 'litecell', token: TOKEN })
  s3 = await startEmbeddedS3({ dir: join(cluster.dir, 's3'), port: 0 })
  s3Endpoint = await forwardS3(new URL(s3.endpoint))
  kubeconfig = join(cluster.dir, 'kubeconfig.yaml')
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: fake',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${cluster.fake.url}`,
      `    certificate-authority-data: ${Buffer.from(cluster.connection.ca).toString('base64')}`,
      'users:',
      '- name: litecell',
      `  user: { token: ${TOKEN} }`,
      'contexts:',
      '- name: fake',
      '  context: { cluster: fake, user: litecell, namespace: litecell }',
      '',
    ].join('\n'),
  )
})

afterAll(async () => {
  for (const server of servers.reverse()) {
    await server.stop()
    await server.family.killAllAndWait()
  }
  forwarder?.close()
  await s3?.stop()
  await cluster?.stop()
})

/**
 * The control plane refuses a loopback S3 endpoint with pods (a pod cannot reach its node's
 * loopback), and the embedded S3 server listens on loopback only: a TCP forwarder on this
 * machine's own address stands for S3 as a pod reaches it.
 */
async function forwardS3(target: URL): Promise<string> {
  const host = Object.values(networkInterfaces())
    .flat()
    .find((address) => address && address.family === 'IPv4' && !address.internal)?.address
  if (!host) throw new Error('this test needs a non-loopback IPv4 address to reach S3 by')
  forwarder = createServer((socket) => {
    const upstream = connect(Number(target.port), target.hostname)
    socket.pipe(upstream).pipe(socket)
    socket.on('error', () => upstream.destroy())
    upstream.on('error', () => socket.destroy())
  })
  await new Promise<void>((resolve) => forwarder!.listen(0, host, resolve))
  return `http://${host}:${(forwarder.address() as { port: number }).port}`
}

function start(port: number): Promise<TestServer> {
  return startTestServer({
    dataDir: join(cluster.dir, 'control-plane'),
    port,
    inherit: (name) => name !== 'KUBERNETES_SERVICE_HOST',
    env: {
      LITECELL_LAUNCHER: 'kubernetes',
      LITECELL_K8S_IMAGE: 'registry.example.com/litecell:test',
      LITECELL_ADVERTISE_URL: `http://127.0.0.1:${port}`,
      KUBECONFIG: kubeconfig,
      LITECELL_S3_ENDPOINT: s3Endpoint,
      LITECELL_S3_BUCKET: 'litecell',
      LITECELL_S3_PREFIX: 'pod-adopt',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      LITECELL_IDLE_MS: '120000',
      LITECELL_LEASE_TTL_MS: String(LEASE_TTL_MS),
    },
  }).then((server) => (servers.push(server), server))
}

/** The pods the fake API holds for the tenant. */
function podsOf(tenantId: string): string[] {
  return [...cluster.fake.pods.values()]
    .filter((pod) => pod.object.metadata.labels['litecell.dev/tenant'] === tenantId)
    .map((pod) => pod.object.metadata.name as string)
}

test('a restarted control plane adopts the pod running a 10 s workflow: the run completes in it, and no second pod was ever created', async () => {
  const port = await freePort()
  const first = await start(port)
  await first.admin.createTenant({ id: 'podded', app: 'test' })
  const { runId } = await first.admin.startRun('podded', {
    workflow: 'slowSteps',
    input: { steps: STEPS, stepMs: STEP_MS },
  })
  await waitFor(async () => (await first.admin.getRun('podded', runId)).status === 'running')
  const before = await first.admin.get<any>('/v1/tenants/podded')
  const [pod, ...others] = [...cluster.fake.pods.values()].filter(
    (candidate) => candidate.object.metadata.labels['litecell.dev/tenant'] === 'podded',
  )
  expect(others).toEqual([])
  const podPid = pod!.child!.pid!
  const creates = () =>
    cluster.fake.calls.filter(
      (call) => call.method === 'POST' && call.path.endsWith('/pods') && call.status === 201,
    ).length
  expect(creates()).toBe(1)

  await first.stop({ signal: 'SIGKILL' })
  await new Promise((resolve) => setTimeout(resolve, 500))
  expect(pod!.child!.exitCode, 'the pod outlived its control plane').toBeNull()

  const second = await start(port)
  const run = await second.admin.runResult('podded', runId, { waitMs: 60_000 })
  expect(run.status).toBe('succeeded')
  expect(run.output).toEqual({ steps: STEPS, pid: podPid })
  const detail = await second.admin.getRun('podded', runId)
  const stepPids = new Set<unknown>()
  for (const step of detail.steps) {
    stepPids.add((await second.admin.getStep('podded', runId, step.seq)).output)
  }
  expect([...stepPids]).toEqual([podPid])

  const after = await second.admin.get<any>('/v1/tenants/podded')
  expect(after.state).toBe('active')
  expect(after.worker).toMatchObject({ epoch: before.worker.epoch })
  // The adopted pod keeps serving: a new run lands on it too.
  const next = await second.admin.startRun('podded', { workflow: 'quick', input: { n: 1 } })
  expect((await second.admin.runResult('podded', next.runId, { waitMs: 30_000 })).status).toBe(
    'succeeded',
  )
  expect(creates()).toBe(1)
  expect(podsOf('podded')).toEqual([pod!.object.metadata.name])
  expect(pod!.child!.exitCode).toBeNull()

  // Stopping the control plane hibernates the adopted pod the way it would a launched one:
  // a SIGTERM delete, exit 0 seen through the watch, the pod object released.
  await second.stop()
  await waitFor(() => !cluster.fake.pods.has(pod!.object.metadata.name), {
    what: 'the adopted pod deleted on stop',
  })
  expect(pod!.child!.exitCode).toBe(0)
})
