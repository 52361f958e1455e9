import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeKubernetesApi } from './fake-api.js'

/** A fake cluster for one test file: the fake API over HTTPS with a throwaway CA, and a folder. */
export interface FakeCluster {
  readonly fake: FakeKubernetesApi
  /** What a launcher needs to reach it (`KubernetesConnection` of the control plane). */
  readonly connection: { apiUrl: string; token: string; ca: string; namespace: string }
  /** A temp folder for the test (logs, kubeconfigs); removed by {@link stop}. */
  readonly dir: string
  stop(): Promise<void>
}

/**
 * Starts {@link FakeKubernetesApi} on loopback over HTTPS, with a self-signed certificate for
 * 127.0.0.1 made by `openssl` and a bearer token, as a cluster's API server would be reached.
 */
export async function startFakeCluster(options: {
  namespace: string
  token: string
}): Promise<FakeCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'litecell-k8s-test-'))
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')]
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
      .concat([
        '-days',
        '1',
        '-subj',
        '/CN=fake-kubernetes',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ])
      .concat(['-keyout', key, '-out', cert]),
    { stdio: 'ignore' },
  )
  const ca = readFileSync(cert, 'utf8')
  const fake = await FakeKubernetesApi.start({
    ...options,
    tls: { key: readFileSync(key, 'utf8'), cert: ca },
  })
  return {
    fake,
    connection: { apiUrl: fake.url, token: options.token, ca, namespace: options.namespace },
    dir,
    async stop() {
      await fake.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
