/**
 * Where the Kubernetes launcher's cluster comes from (a pod's service account, or a
 * kubeconfig's current context), and the LITECELL_K8S_* settings; against the fake API of
 * `@litecell/testkit/kubernetes`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startFakeCluster, type FakeCluster } from '@litecell/testkit/kubernetes'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { controlPlaneConfigFromEnv } from '../control-plane-config.js'
import { KubernetesApi, loadKubeConfig } from './kubernetes-api.js'
import { KubernetesLauncher } from './kubernetes-launcher.js'

const NAMESPACE = 'litecell'
const TOKEN = 'sa-token-never-printed'

let cluster: FakeCluster
/** Every launcher a test made: their pod watches are stopped at the end. */
const launchers: KubernetesLauncher[] = []

beforeAll(async () => {
  cluster = await startFakeCluster({ namespace: NAMESPACE, token: TOKEN })
})

afterAll(async () => {
  for (const made of launchers) made.close()
  await cluster?.stop()
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

describe('where the cluster comes from', () => {
  /** Runs `fn` with these environment variables set (undefined: unset), then restores them. */
  async function withEnv<T>(
    vars: Record<string, string | undefined>,
    fn: () => Promise<T>,
  ): Promise<T> {
    const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]))
    const apply = (values: Record<string, string | undefined>) => {
      for (const [name, value] of Object.entries(values)) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
    }
    apply(vars)
    try {
      return await fn()
    } finally {
      apply(saved)
    }
  }

  test("in a pod: the service account's mounted token, CA and namespace reach the API", async () => {
    const root = join(cluster.dir, 'pod-root')
    const mounted = join(root, 'var/run/secrets/kubernetes.io/serviceaccount')
    mkdirSync(mounted, { recursive: true })
    writeFileSync(join(mounted, 'token'), TOKEN)
    writeFileSync(join(mounted, 'ca.crt'), cluster.connection.ca)
    writeFileSync(join(mounted, 'namespace'), NAMESPACE)
    const { port } = new URL(cluster.fake.url)
    const pods = await withEnv(
      { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port },
      async () => {
        const loaded = loadKubeConfig({ inClusterRoot: root })
        expect(loaded.namespace).toBe(NAMESPACE)
        return new KubernetesApi(loaded).listPods('app.kubernetes.io/name=litecell-worker')
      },
    )
    expect(pods.items).toBeInstanceOf(Array)
  })

  test("outside a cluster: KUBECONFIG's current context (server, CA, token, namespace) reaches the API", async () => {
    const kubeconfig = join(cluster.dir, 'kubeconfig.yaml')
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
        '  user:',
        `    token: ${TOKEN}`,
        'contexts:',
        '- name: other',
        '  context: { cluster: fake, user: litecell, namespace: nope }',
        '- name: fake',
        `  context: { cluster: fake, user: litecell, namespace: ${NAMESPACE} }`,
        '',
      ].join('\n'),
    )
    await withEnv({ KUBERNETES_SERVICE_HOST: undefined, KUBECONFIG: kubeconfig }, async () => {
      const fromKubeconfig = new KubernetesLauncher({ image: 'registry.example.com/litecell:test' })
      launchers.push(fromKubeconfig)
      expect(fromKubeconfig.namespace).toBe(NAMESPACE)
      await fromKubeconfig.preflight()
    })
  })

  test('with neither a pod nor a kubeconfig it is a K8S_CONFIG error naming both', async () => {
    await withEnv(
      {
        KUBERNETES_SERVICE_HOST: undefined,
        KUBECONFIG: undefined,
        HOME: join(cluster.dir, 'no-home'),
      },
      async () => {
        expect(() => loadKubeConfig()).toThrow(
          expect.objectContaining({
            code: 'K8S_CONFIG',
            message: expect.stringMatching(/KUBECONFIG/),
          }),
        )
      },
    )
  })
})
