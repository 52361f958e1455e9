import { WORKER_ENV, serializeWorkerEnvironment } from '@litecell/protocol'
import type { WorkerSpec } from '../launcher.js'

/** Port a worker pod's tenant API listens on (the pod has its own IP, so one port fits all). */
export const WORKER_POD_PORT = 8080
/** Where a worker pod's emptyDir is mounted; the tenant's files live below it. */
export const WORKER_POD_DATA_DIR = '/var/lib/litecell'
/**
 * The finalizer every worker pod carries, so the pod object outlives its container until the
 * launcher has read the container's exit code. Without it a graceful delete can remove the pod
 * before the launcher read its final status, and the exit code (0: a verified hibernation)
 * would be lost. The Job controller does the same with `batch.kubernetes.io/job-tracking`.
 */
export const WORKER_FINALIZER = 'litecell.dev/worker-exit'
/** Labels every worker pod (and its Secret) carries. */
export const WORKER_LABELS = {
  'app.kubernetes.io/name': 'litecell-worker',
  'app.kubernetes.io/managed-by': 'litecell',
} as const
/** Label selector of all worker pods. */
export const WORKER_SELECTOR = 'app.kubernetes.io/name=litecell-worker'

/** How worker pods look: image, command and resources. */
export interface WorkerPodTemplate {
  readonly image: string
  /** Runs the worker entry point in the image. */
  readonly command: readonly string[]
  readonly workingDir: string
  /** e.g. `512Mi`: the limit, and the request (memory is not overcommitted). */
  readonly memory: string
  /** e.g. `1`: the limit. */
  readonly cpuLimit: string
  /** e.g. `250m`: the request. */
  readonly cpuRequest: string
  /** How long a deleted pod's worker has to hibernate (verified final sync) before SIGKILL. */
  readonly terminationGracePeriodSeconds: number
}

/** The Kubernetes objects of one worker. */
export interface WorkerPodObjects {
  readonly name: string
  readonly pod: Record<string, unknown>
  /** The per-pod Secret holding the secret environment variables; null if there are none. */
  readonly secret: Record<string, unknown> | null
}

/** `litecell-<tenant>-<epoch>`: one name per lease, so a second create for an epoch fails. */
export function workerPodName(tenantId: string, epoch: number): string {
  return `litecell-${tenantId}-${epoch}`
}

/**
 * Whether an environment variable is a secret: it goes into the pod's Secret, not its spec.
 * The worker secret and the S3 credentials are; so is anything named like one.
 */
export function isSecretVariable(name: string): boolean {
  return /SECRET|TOKEN|PASSWORD|ACCESS_KEY|CREDENTIAL/.test(name)
}

/**
 * The Pod (and Secret) of a worker. Its environment is the spec's settings placed thus: the
 * tenant API listens on 0.0.0.0:8080 and advertises the pod IP (downward API), the tenant's
 * files go to the pod's emptyDir, and secret variables are read from a per-pod Secret rather
 * than written into the pod spec, because anyone allowed to read pods (the built-in `view`
 * role) would otherwise read them; `view` cannot read Secrets.
 */
export function workerPodObjects(
  spec: WorkerSpec,
  namespace: string,
  template: WorkerPodTemplate,
): WorkerPodObjects {
  const { tenantId, epoch } = spec.settings
  const name = workerPodName(tenantId, epoch)
  const labels = {
    ...WORKER_LABELS,
    'litecell.dev/tenant': tenantId,
    'litecell.dev/epoch': String(epoch),
  }
  // The advertised host is the pod's IP, known only once it runs: the downward API, below.
  const values = serializeWorkerEnvironment(spec.settings, {
    tenantDir: `${WORKER_POD_DATA_DIR}/tenants/${tenantId}`,
    host: '0.0.0.0',
    port: WORKER_POD_PORT,
  })
  const heapMb = heapLimitMb(template.memory)
  if (heapMb !== undefined) values.NODE_OPTIONS = `--max-old-space-size=${heapMb}`
  const secretData: Record<string, string> = {}
  const env: Record<string, unknown>[] = []
  for (const key of Object.keys(values).sort()) {
    if (isSecretVariable(key)) {
      secretData[key] = values[key]!
      env.push({ name: key, valueFrom: { secretKeyRef: { name, key } } })
    } else {
      env.push({ name: key, value: values[key] })
    }
  }
  env.push({
    name: WORKER_ENV.advertiseHost,
    valueFrom: { fieldRef: { fieldPath: 'status.podIP' } },
  })
  const hasSecret = Object.keys(secretData).length > 0
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels, finalizers: [WORKER_FINALIZER] },
    spec: {
      restartPolicy: 'Never',
      // A worker needs S3 and the control plane, never the Kubernetes API.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: template.terminationGracePeriodSeconds,
      securityContext: { runAsNonRoot: true },
      containers: [
        {
          name: 'worker',
          image: template.image,
          command: [...template.command],
          workingDir: template.workingDir,
          env,
          ports: [{ name: 'http', containerPort: WORKER_POD_PORT, protocol: 'TCP' }],
          resources: {
            limits: { memory: template.memory, cpu: template.cpuLimit },
            requests: { memory: template.memory, cpu: template.cpuRequest },
          },
          volumeMounts: [{ name: 'tenant-data', mountPath: WORKER_POD_DATA_DIR }],
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        },
      ],
      volumes: [{ name: 'tenant-data', emptyDir: {} }],
    },
  }
  const secret = hasSecret
    ? {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: { name, namespace, labels },
        stringData: secretData,
      }
    : null
  return { name, pod, secret }
}

/**
 * Node's heap cap for a memory limit: three quarters of it, leaving room for Litestream and
 * native memory, so a memory-hungry tenant ends in a heap error rather than the OOM killer.
 * Undefined for quantities it does not convert (decimal units are close enough: M, G).
 */
export function heapLimitMb(memory: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(memory)
  if (!match) return undefined
  const perUnitMb: Record<string, number> = {
    Ki: 1 / 1024,
    k: 1 / 1024,
    Mi: 1,
    M: 1,
    Gi: 1024,
    G: 1024,
    Ti: 1024 ** 2,
    T: 1024 ** 2,
  }
  const mb = match[2] ? Number(match[1]) * perUnitMb[match[2]]! : Number(match[1]) / 1024 ** 2
  const heapMb = Math.floor(mb * 0.75)
  return heapMb >= 16 ? heapMb : undefined
}
