/**
 * KubernetesLauncher, through the official `@kubernetes/client-node`, against a FAKE Kubernetes
 * API (`@litecell/testkit/kubernetes`): no cluster runs on this machine, so the API server and
 * kubelet are simulated on loopback, over HTTPS with a throwaway CA, lists and watches
 * included, and containers run as real local processes. What a real cluster adds
 * (scheduling, image pulls, networking, RBAC evaluation) is not covered here; see
 * infra/README.md. Where the cluster comes from is in kube-config.test.ts; a whole control
 * plane with pods in control-plane-pods.test.ts. (Over 300 lines: one table of pod behaviours,
 * API failures and adoption that share one fake cluster and its helpers.)
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { WorkerSettings } from '@litecell/protocol'
import { waitFor } from '@litecell/testkit'
import {
  startFakeCluster,
  type FakeCluster,
  type FakeKubernetesApi,
} from '@litecell/testkit/kubernetes'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { WorkerSpec } from '../launcher.js'
import type { KubernetesConnection } from './kubernetes-api.js'
import { KubernetesLauncher } from './kubernetes-launcher.js'
import type { KubernetesLauncherOptions } from './launcher-options.js'

const NAMESPACE = 'litecell'
const TOKEN = 'sa-token-never-printed'
const WORKER_SECRET = 'lcw_worker-secret-never-in-a-pod-spec'
const AWS_SECRET = 'aws-secret-never-in-a-pod-spec'
/** A container that runs until SIGTERM, then exits 0 after a short "hibernation". */
const HIBERNATES =
  "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 200)); console.log('up'); setInterval(() => {}, 1000)"
/** A container that ignores SIGTERM. */
const STUBBORN = "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"

let cluster: FakeCluster
let dir: string
let fake: FakeKubernetesApi
let connection: KubernetesConnection
/** Every launcher a test made: their pod watches are stopped at the end. */
const launchers: KubernetesLauncher[] = []

beforeAll(async () => {
  cluster = await startFakeCluster({ namespace: NAMESPACE, token: TOKEN })
  ;({ fake, connection, dir } = cluster)
})

afterAll(async () => {
  for (const made of launchers) made.close()
  await cluster?.stop()
})

function launcher(options: Partial<KubernetesLauncherOptions> = {}): KubernetesLauncher {
  const made = new KubernetesLauncher({
    connection,
    image: 'registry.example.com/litecell:test',
    ...options,
  })
  launchers.push(made)
  return made
}

let epoch = 0
function spec(tenantId: string, settings: Partial<WorkerSettings> = {}): WorkerSpec {
  epoch += 1
  return {
    settings: {
      tenantId,
      epoch,
      workerSecret: WORKER_SECRET,
      controlUrl: 'http://litecell.litecell.svc:8787',
      appPath: '/app/packages/examples/src/experiment-app.ts',
      storage: { bucket: 'b', prefix: '', region: 'us-east-1', secretAccessKey: AWS_SECRET },
      idleMs: 30_000,
      leaseTtlMs: 10_000,
      syncIntervalMs: 1_000,
      ...settings,
    },
    logPath: join(dir, 'logs', `${tenantId}.log`),
  }
}

/** Running, and its signal handlers installed (the container's first log line). */
const running = (name: string) =>
  fake.pods.get(name)?.object.status.phase === 'Running' && fake.pods.get(name)?.log.includes('up')
const deletes = (name: string) =>
  fake.calls
    .filter((call) => call.method === 'DELETE' && call.path.endsWith(`/pods/${name}`))
    .map((call) => call.query.get('gracePeriodSeconds'))

describe('pods', () => {
  test('a pod is created with labels, env (secrets by reference, pod IP from the downward API), limits and restartPolicy Never', async () => {
    const worker = launcher({
      command: ['node', '-e', HIBERNATES],
      memory: '384Mi',
      cpuLimit: '500m',
      cpuRequest: '100m',
    }).launch(spec('acme'))
    const name = `litecell-acme-${epoch}`
    expect(worker.podName).toBe(name)
    await waitFor(() => running(name), { what: 'pod running' })
    const pod = fake.pods.get(name)!.object
    expect(pod.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'litecell-worker',
      'litecell.dev/tenant': 'acme',
      'litecell.dev/epoch': String(epoch),
    })
    expect(pod.spec).toMatchObject({
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 150,
    })
    const [container] = pod.spec.containers
    expect(container.image).toBe('registry.example.com/litecell:test')
    expect(container.resources).toEqual({
      limits: { memory: '384Mi', cpu: '500m' },
      requests: { memory: '384Mi', cpu: '100m' },
    })
    const env = Object.fromEntries(
      container.env.map((variable: any) => [variable.name, variable.value ?? variable.valueFrom]),
    )
    expect(env).toMatchObject({
      LITECELL_WORKER_HOST: '0.0.0.0',
      LITECELL_WORKER_PORT: '8080',
      NODE_OPTIONS: '--max-old-space-size=288',
      LITECELL_TENANT_DIR: '/var/lib/litecell/tenants/acme',
      LITECELL_WORKER_ADVERTISE_HOST: { fieldRef: { fieldPath: 'status.podIP' } },
      LITECELL_WORKER_SECRET: { secretKeyRef: { name, key: 'LITECELL_WORKER_SECRET' } },
      AWS_SECRET_ACCESS_KEY: { secretKeyRef: { name, key: 'AWS_SECRET_ACCESS_KEY' } },
    })
    expect(container.volumeMounts).toEqual([
      { name: 'tenant-data', mountPath: '/var/lib/litecell' },
    ])
    expect(pod.spec.volumes).toEqual([{ name: 'tenant-data', emptyDir: {} }])
    expect(JSON.stringify(pod)).not.toContain(WORKER_SECRET)
    expect(JSON.stringify(pod)).not.toContain(AWS_SECRET)
    const secret = fake.secrets.get(name)!
    await waitFor(() => secret.metadata.ownerReferences, { what: 'the secret owned by its pod' })
    expect(secret.stringData).toEqual({
      LITECELL_WORKER_SECRET: WORKER_SECRET,
      AWS_SECRET_ACCESS_KEY: AWS_SECRET,
    })
    expect(secret.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Pod', name, uid: pod.metadata.uid },
    ])
    worker.kill()
    await worker.exited
    expect(fake.pods.has(name)).toBe(false)
    expect(fake.secrets.has(name)).toBe(false)
  })

  // Catches a launcher that polls each pod (one GET per worker per second) instead of
  // following them all on one watch, and a watch that does not resume after a disconnect.
  test('every pod is followed on one watch, with no request per pod; a dropped watch resumes and misses no exit', async () => {
    const before = fake.calls.length
    const first = launcher({ command: ['node', '-e', HIBERNATES] })
    const workers = [first.launch(spec('watched-a')), first.launch(spec('watched-b'))]
    for (const worker of workers)
      await waitFor(() => running(worker.podName), { what: 'pod running' })
    expect(fake.watchers).toBeGreaterThanOrEqual(1)
    fake.dropWatches()
    for (const worker of workers) worker.kill('SIGTERM')
    for (const worker of workers) expect(await worker.exited).toEqual({ code: 0, signal: null })
    const podReads = fake.calls
      .slice(before)
      .filter((call) => call.method === 'GET' && /\/pods\/[^/]+$/.test(call.path))
    expect(podReads).toEqual([])
  })

  test("exited reports the container's exit code, and the pod's log lands in the tenant's log", async () => {
    const worker = launcher({
      command: ['node', '-e', "console.log('hello from the pod'); process.exit(3)"],
    }).launch(spec('crashy'))
    expect(await worker.exited).toEqual({ code: 3, signal: null })
    expect(readFileSync(join(dir, 'logs', 'crashy.log'), 'utf8')).toContain('hello from the pod')
    expect(fake.pods.has(worker.podName)).toBe(false)
  })

  test('SIGTERM deletes the pod with its grace period; the worker hibernates and its exit 0 is seen despite the delete', async () => {
    const worker = launcher({
      command: ['node', '-e', HIBERNATES],
      terminationGracePeriodSeconds: 40,
    }).launch(spec('gentle'))
    await waitFor(() => running(worker.podName), { what: 'pod running' })
    worker.kill('SIGTERM')
    expect(await worker.exited).toEqual({ code: 0, signal: null })
    expect(deletes(worker.podName)[0]).toBe('40')
    expect(fake.pods.has(worker.podName)).toBe(false)
  })

  test('SIGKILL deletes the pod at once (1 s grace, confirmed by the kubelet), not by a force delete', async () => {
    const worker = launcher({ command: ['node', '-e', STUBBORN] }).launch(spec('stubborn'))
    await waitFor(() => running(worker.podName), { what: 'pod running' })
    const started = Date.now()
    worker.kill('SIGKILL')
    expect(await worker.exited).toEqual({ code: 137, signal: null })
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(deletes(worker.podName)[0]).toBe('1')
  })

  test('a SIGKILL on a lost node becomes a force delete (grace 0) once the lease has run out', async () => {
    const worker = launcher({ command: ['node', '-e', STUBBORN] }).launch(
      spec('lost', { leaseTtlMs: 500 }),
    )
    await waitFor(() => running(worker.podName), { what: 'pod running' })
    fake.nodeLost = true
    try {
      const started = Date.now()
      worker.kill('SIGKILL')
      expect(await worker.exited).toEqual({ code: null, signal: 'SIGKILL' })
      // Lease TTL 500 ms + the 2 s margin: not before the lease ran out.
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_500)
      expect(deletes(worker.podName)).toEqual(['1', '0'])
      expect(fake.pods.has(worker.podName)).toBe(false)
      // The kubelet never acted: the container still runs, fenced by its lease, not by us.
      expect(fake.orphans).toHaveLength(1)
    } finally {
      fake.nodeLost = false
    }
  })
})

describe('API errors', () => {
  test('preflight names the problem: unknown namespace, refused token, RBAC', async () => {
    await expect(
      launcher({ connection: { ...connection, namespace: 'nope' } }).preflight(),
    ).rejects.toMatchObject({ code: 'K8S_NOT_FOUND', status: 404 })
    const unauthorized = launcher({
      connection: { ...connection, token: 'wrong-token' },
    }).preflight()
    await expect(unauthorized).rejects.toMatchObject({ code: 'K8S_UNAUTHORIZED' })
    await expect(unauthorized).rejects.not.toThrow(/wrong-token/)
    fake.forbidden.add('list pods')
    try {
      const refused = launcher().preflight()
      await expect(refused).rejects.toMatchObject({ code: 'K8S_FORBIDDEN', status: 403 })
      await expect(refused).rejects.toThrow(/cannot list resource "pods".*rbac\.yaml/)
    } finally {
      fake.forbidden.delete('list pods')
    }
  })

  test('preflight names every permission the Role lacks', async () => {
    fake.forbidden.add('create secrets')
    fake.forbidden.add('get pods/log')
    try {
      await expect(launcher().preflight()).rejects.toThrow(
        expect.objectContaining({
          code: 'K8S_FORBIDDEN',
          message: expect.stringMatching(
            /may not get pods\/log, create secrets in namespace litecell/,
          ),
        }),
      )
    } finally {
      fake.forbidden.clear()
    }
    await launcher().preflight()
  })

  test('a refused pod create ends the worker with the code in its log, no secret in it, and its Secret removed', async () => {
    fake.forbidden.add('create pods')
    try {
      const worker = launcher().launch(spec('refused'))
      expect(await worker.exited).toEqual({ code: null, signal: null })
      expect(worker.error).toMatchObject({ code: 'K8S_FORBIDDEN', status: 403 })
      const log = readFileSync(join(dir, 'logs', 'refused.log'), 'utf8')
      expect(log).toContain('K8S_FORBIDDEN')
      expect(log).toContain(`create pod litecell-refused-${epoch}`)
      for (const secret of [TOKEN, WORKER_SECRET, AWS_SECRET]) expect(log).not.toContain(secret)
      expect(fake.secrets.has(worker.podName)).toBe(false)
    } finally {
      fake.forbidden.delete('create pods')
    }
  })

  test('a pod created although its create call got no answer is found and watched, not left running', async () => {
    fake.unanswered.add('create pods')
    const worker = launcher({ command: ['node', '-e', HIBERNATES] }).launch(spec('unanswered'))
    await waitFor(() => running(worker.podName), { what: 'pod running' })
    worker.kill()
    expect(await worker.exited).toEqual({ code: 0, signal: null })
    expect(worker.error).toBeUndefined()
    expect(fake.pods.has(worker.podName)).toBe(false)
  })

  test('a second launch for the same tenant and epoch (a restarted control plane) cannot create a duplicate pod', async () => {
    const first = launcher({ command: ['node', '-e', HIBERNATES] }).launch(spec('twice'))
    await waitFor(() => running(first.podName), { what: 'pod running' })
    const again = spec('twice', { epoch: Number(first.podName.split('-').pop()) })
    const duplicate = launcher().launch(again)
    expect(await duplicate.exited).toEqual({ code: null, signal: null })
    expect(duplicate.error?.code).toBe('K8S_CONFLICT')
    expect(fake.pods.get(first.podName)?.object.status.phase).toBe('Running')
    first.kill()
    expect(await first.exited).toEqual({ code: 0, signal: null })
  })

  test('preflight releases pods a previous control plane left ended', async () => {
    const left = launcher({ command: ['node', '-e', 'process.exit(0)'] }).launch(spec('left'))
    left.abandon()
    await waitFor(() => fake.pods.get(left.podName)?.object.status.phase === 'Succeeded', {
      what: 'pod ended',
    })
    await launcher().preflight()
    expect(fake.pods.has(left.podName)).toBe(false)
  })
})

describe('adoption after a control-plane restart (issue 9, item 10)', () => {
  /** A pod launched by a control plane that then died (its launcher abandons, creates nothing more). */
  async function survivor(tenantId: string, command: string) {
    const first = launcher({ command: ['node', '-e', command] })
    const worker = first.launch(spec(tenantId))
    await waitFor(() => running(worker.podName), { what: 'pod running' })
    first.close()
    return { name: worker.podName, epoch: Number(worker.podName.split('-').pop()) }
  }
  const adoptee = (tenantId: string, epoch: number) => ({
    tenantId,
    epoch,
    pid: 1,
    leaseTtlMs: 10_000,
    logPath: join(dir, 'logs', `${tenantId}.log`),
  })
  const creates = () => fake.calls.filter((call) => call.method === 'POST').length

  test('a restarted launcher follows the pod named for the epoch, creating nothing; SIGTERM deletes it and its exit 0 is seen', async () => {
    // Catches: an adopt that creates a second pod or Secret, follows another pod than
    // litecell-<tenant>-<epoch>, or does not release the pod's finalizer and Secret at its end.
    const { name, epoch } = await survivor('adoptee', HIBERNATES)
    const second = launcher({ terminationGracePeriodSeconds: 40 })
    await second.preflight()
    const posts = creates()
    const adopted = second.adopt(adoptee('adoptee', epoch))
    expect(adopted?.podName).toBe(name)
    expect(adopted?.pid).toBeUndefined()
    adopted!.kill('SIGTERM')
    expect(await adopted!.exited).toEqual({ code: 0, signal: null })
    expect(deletes(name)).toEqual(['40'])
    expect(creates()).toBe(posts)
    expect(fake.pods.has(name)).toBe(false)
    expect(fake.secrets.has(name)).toBe(false)
  })

  test("an adopted pod's own end is seen by the watch with its exit code; SIGKILL deletes it with 1 s grace", async () => {
    const ends = await survivor(
      'adoptee-ends',
      "setTimeout(() => process.exit(3), 1500); console.log('up')",
    )
    const kills = await survivor('adoptee-killed', STUBBORN)
    const second = launcher()
    await second.preflight()
    const ending = second.adopt(adoptee('adoptee-ends', ends.epoch))!
    const killed = second.adopt(adoptee('adoptee-killed', kills.epoch))!
    killed.kill('SIGKILL')
    expect(await ending.exited).toEqual({ code: 3, signal: null })
    expect(await killed.exited).toEqual({ code: 137, signal: null })
    expect(deletes(kills.name)).toEqual(['1'])
  })

  test('a heartbeat naming no listed pod is refused: another epoch, another tenant, a pod already followed, or a watch not yet listed', async () => {
    // Catches: an optimistic adopt that would renew the lease of a worker no pod stands for.
    const { name, epoch } = await survivor('adoptee-once', HIBERNATES)
    const unlisted = launcher()
    expect(unlisted.adopt(adoptee('adoptee-once', epoch))).toBeUndefined()
    const second = launcher()
    await second.preflight()
    expect(second.adopt(adoptee('adoptee-once', epoch + 1000))).toBeUndefined()
    expect(
      second.adopt({ ...adoptee('adoptee-once', epoch), tenantId: 'someone-else' }),
    ).toBeUndefined()
    const adopted = second.adopt(adoptee('adoptee-once', epoch))
    expect(adopted?.podName).toBe(name)
    expect(second.adopt(adoptee('adoptee-once', epoch))).toBeUndefined()
    // The refused adopt started the watch: once listed, the next heartbeat is adopted there.
    await waitFor(() => unlisted.adopt(adoptee('adoptee-once', epoch)) !== undefined, {
      what: 'adopted once the watch listed',
    })
    adopted!.kill()
    expect(await adopted!.exited).toEqual({ code: 0, signal: null })
  })
})
