/**
 * KubernetesLauncher against a FAKE Kubernetes API (kubernetes-fake-api.ts): no Kubernetes
 * cluster runs on this machine, so the API server and kubelet are simulated on loopback, over
 * HTTPS with a throwaway CA, and containers run as real local processes. What a real cluster
 * adds (scheduling, image pulls, networking, RBAC evaluation) is not covered here; see
 * infra/README.md. The last test runs a real ControlPlane, real workers, real Litestream and
 * the embedded S3 server through the fake.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { LitecellClient } from '@litecell/client'
import { startEmbeddedS3, type EmbeddedS3 } from '@litecell/replica'
import { waitFor } from '@litecell/testkit'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ControlPlane } from './control-plane.js'
import { controlPlaneConfigFromEnv } from './control-plane-config.js'
import { inClusterConnection, type KubernetesConnection } from './kubernetes-client.js'
import { FakeKubernetesApi } from './kubernetes-fake-api.js'
import { KubernetesLauncher } from './kubernetes-launcher.js'
import type { KubernetesLauncherOptions } from './kubernetes-launcher-options.js'
import type { WorkerSpec } from './launcher.js'
import type { WorkerSettings } from '@litecell/protocol'

const NAMESPACE = 'litecell'
const TOKEN = 'sa-token-never-printed'
const WORKER_SECRET = 'lcw_worker-secret-never-in-a-pod-spec'
const AWS_SECRET = 'aws-secret-never-in-a-pod-spec'
/** A container that runs until SIGTERM, then exits 0 after a short "hibernation". */
const HIBERNATES =
  "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 200)); console.log('up'); setInterval(() => {}, 1000)"
/** A container that ignores SIGTERM. */
const STUBBORN = "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"

let dir: string
let fake: FakeKubernetesApi
let connection: KubernetesConnection

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'litecell-k8s-test-'))
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=fake-kubernetes',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  )
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8')
  fake = await FakeKubernetesApi.start({
    namespace: NAMESPACE,
    token: TOKEN,
    tls: { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert },
  })
  connection = { apiUrl: fake.url, token: TOKEN, ca: cert, namespace: NAMESPACE }
})

afterAll(async () => {
  await fake?.stop()
  rmSync(dir, { recursive: true, force: true })
})

function launcher(options: Partial<KubernetesLauncherOptions> = {}): KubernetesLauncher {
  return new KubernetesLauncher({
    connection,
    image: 'registry.example.com/litecell:test',
    pollMs: 50,
    ...options,
  })
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
    await waitFor(
      () => fake.pods.get(left.podName)?.object.status.phase === 'Succeeded',
      { what: 'pod ended' },
    )
    await launcher().preflight()
    expect(fake.pods.has(left.podName)).toBe(false)
  })
})

describe('configuration', () => {
  const base = {
    LITECELL_LAUNCHER: 'kubernetes',
    LITECELL_K8S_IMAGE: 'registry.example.com/litecell:1',
    LITECELL_S3_BUCKET: 'tenants',
    LITECELL_ADVERTISE_URL: 'http://litecell.litecell.svc:8787/',
  }

  test('LITECELL_LAUNCHER=kubernetes selects pods with the LITECELL_K8S_* settings; local stays the default', () => {
    const config = controlPlaneConfigFromEnv(
      {
        ...base,
        LITECELL_K8S_NAMESPACE: 'tenants',
        LITECELL_K8S_MEMORY: '1Gi',
        LITECELL_K8S_CPU_LIMIT: '2',
        LITECELL_K8S_GRACE_SECONDS: '200',
      },
      { appPath: '/app/app.ts' },
    )
    expect(config.kubernetes).toEqual({
      image: 'registry.example.com/litecell:1',
      namespace: 'tenants',
      memory: '1Gi',
      cpuLimit: '2',
      terminationGracePeriodSeconds: 200,
    })
    expect(config.advertiseUrl).toBe('http://litecell.litecell.svc:8787')
    expect(controlPlaneConfigFromEnv({}, { appPath: '/app/app.ts' }).kubernetes).toBeUndefined()
  })

  test('pods without reachable S3, an advertised URL or an image are refused at start', () => {
    const config = (env: Record<string, string | undefined>) => () =>
      controlPlaneConfigFromEnv({ ...base, ...env }, { appPath: '/a.ts' })
    expect(config({ LITECELL_S3_BUCKET: undefined })).toThrow(/LITECELL_S3_BUCKET/)
    expect(config({ LITECELL_S3_ENDPOINT: 'http://127.0.0.1:9000' })).toThrow(/loopback/)
    expect(config({ LITECELL_ADVERTISE_URL: undefined })).toThrow(/LITECELL_ADVERTISE_URL/)
    expect(config({ LITECELL_K8S_IMAGE: undefined })).toThrow(/LITECELL_K8S_IMAGE/)
    expect(config({ LITECELL_K8S_MEMORY: 'lots' })).toThrow(/Expected `memory`/)
    expect(config({ LITECELL_LAUNCHER: 'nomad' })).toThrow(/local or kubernetes/)
  })
})

describe('in-cluster connection', () => {
  test("a pod's service account gives the API URL, token, CA and namespace; outside a pod it is a K8S_CONFIG error", () => {
    const accountDir = join(dir, 'serviceaccount')
    mkdirSync(accountDir, { recursive: true })
    writeFileSync(join(accountDir, 'token'), 'mounted-token\n')
    writeFileSync(join(accountDir, 'ca.crt'), 'PEM')
    writeFileSync(join(accountDir, 'namespace'), 'litecell')
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }
    expect(inClusterConnection(env, { dir: accountDir })).toEqual({
      apiUrl: 'https://10.96.0.1:443',
      token: 'mounted-token',
      ca: 'PEM',
      namespace: 'litecell',
    })
    expect(inClusterConnection(env, { dir: accountDir, namespace: 'other' }).namespace).toBe(
      'other',
    )
    expect(() => inClusterConnection({}, { dir: accountDir })).toThrow(
      expect.objectContaining({ code: 'K8S_CONFIG' }),
    )
  })
})

describe('control plane with pods', () => {
  let s3: EmbeddedS3
  let controlPlane: ControlPlane | undefined

  afterAll(async () => {
    await controlPlane?.stop()
    await s3?.stop()
  })

  test('a tenant whose worker is a pod is created, runs a workflow, hibernates, wakes from S3 and forks', async () => {
    s3 = await startEmbeddedS3({ dir: join(dir, 's3') })
    const adminToken = 'lca_k8s-test-admin'
    controlPlane = await ControlPlane.start(
      {
        port: 0,
        host: '127.0.0.1',
        dataDir: join(dir, 'control-plane'),
        apps: { default: resolve(import.meta.dirname, '../../../test/apps/test-app.ts') },
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
      { launcher: launcher({ pollMs: 200 }), log: pino({ level: 'silent' }) },
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
