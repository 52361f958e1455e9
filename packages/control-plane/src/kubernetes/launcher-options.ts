import type { KubernetesConnection } from './kubernetes-api.js'

/**
 * The command that runs the worker in the litecell image (infra/Dockerfile): its JavaScript
 * bundle, built into the image (`WORKER_NODE_ARGS` of @litecell/worker, issue 12).
 */
export const DEFAULT_WORKER_COMMAND: readonly string[] = [
  'node',
  '--enable-source-maps',
  '--max-semi-space-size=2',
  'packages/worker/dist/worker.mjs',
]
/** The repository's folder in the image. */
export const DEFAULT_WORKER_WORKING_DIR = '/app'
/** Memory limit (and request) of a worker pod. */
export const DEFAULT_WORKER_MEMORY = '512Mi'
export const DEFAULT_WORKER_CPU_LIMIT = '1'
export const DEFAULT_WORKER_CPU_REQUEST = '250m'
/** A deleted worker's time to hibernate: above the fleet's 120 s hibernate timeout. */
export const DEFAULT_TERMINATION_GRACE_SECONDS = 150

/** Settings of a {@link KubernetesLauncher}. */
export interface KubernetesLauncherOptions {
  /**
   * The API and namespace; absent: the control plane pod's own service account in a cluster,
   * else the kubeconfig (`KUBECONFIG`, else `~/.kube/config`) and its current context.
   */
  readonly connection?: KubernetesConnection
  /** Namespace of the worker pods. @default the context's (the pod's, in a cluster), else `default` */
  readonly namespace?: string
  /** The litecell image (the same one the control plane runs). */
  readonly image: string
  /** @default {@link DEFAULT_WORKER_COMMAND} */
  readonly command?: readonly string[]
  /** @default '/app' */
  readonly workingDir?: string
  /** Memory limit and request, a Kubernetes quantity. @default '512Mi' */
  readonly memory?: string
  /** @default '1' */
  readonly cpuLimit?: string
  /** @default '250m' */
  readonly cpuRequest?: string
  /** @default 150 */
  readonly terminationGracePeriodSeconds?: number
}

const MEMORY = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/
const CPU = /^[0-9]+(\.[0-9]+)?m?$/

/** Throws a `TypeError` naming the first bad option, quoting the value. */
export function validateKubernetesLauncherOptions(options: KubernetesLauncherOptions): void {
  const fail = (name: string, expected: string, value: unknown): never => {
    throw new TypeError(
      `Expected \`${name}\` to be ${expected}, got \`${String(value)}\` (${typeof value})`,
    )
  }
  if (
    typeof options.image !== 'string' ||
    options.image.trim() === '' ||
    /\s/.test(options.image)
  ) {
    fail('image', 'an image reference', options.image)
  }
  if (options.memory !== undefined && !MEMORY.test(options.memory))
    fail('memory', 'a quantity like 512Mi', options.memory)
  for (const name of ['cpuLimit', 'cpuRequest'] as const) {
    const value = options[name]
    if (value !== undefined && !CPU.test(value)) fail(name, 'a CPU quantity like 1 or 250m', value)
  }
  const grace = options.terminationGracePeriodSeconds
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 1))
    fail('terminationGracePeriodSeconds', 'an integer from 1 and up', grace)
  if (
    options.command !== undefined &&
    (options.command.length === 0 || options.command.some((part) => typeof part !== 'string'))
  ) {
    fail('command', 'a non-empty list of strings', options.command)
  }
}

/**
 * Reads the Kubernetes launcher's settings: LITECELL_K8S_IMAGE (required), LITECELL_K8S_NAMESPACE,
 * LITECELL_K8S_MEMORY, LITECELL_K8S_CPU_LIMIT, LITECELL_K8S_CPU_REQUEST and
 * LITECELL_K8S_GRACE_SECONDS. The cluster comes from the pod's service account, or outside a
 * cluster from the kubeconfig (`KUBECONFIG`). Throws a `TypeError` naming the variable.
 */
export function kubernetesLauncherOptionsFromEnv(
  env: NodeJS.ProcessEnv,
): KubernetesLauncherOptions {
  const image = env.LITECELL_K8S_IMAGE
  if (!image)
    throw new TypeError(
      'LITECELL_LAUNCHER=kubernetes needs LITECELL_K8S_IMAGE (the litecell image workers run)',
    )
  const grace = env.LITECELL_K8S_GRACE_SECONDS
  if (grace && !Number.isInteger(Number(grace)))
    throw new TypeError(`Expected LITECELL_K8S_GRACE_SECONDS to be an integer, got \`${grace}\``)
  const options: KubernetesLauncherOptions = {
    image,
    ...(env.LITECELL_K8S_NAMESPACE ? { namespace: env.LITECELL_K8S_NAMESPACE } : {}),
    ...(env.LITECELL_K8S_MEMORY ? { memory: env.LITECELL_K8S_MEMORY } : {}),
    ...(env.LITECELL_K8S_CPU_LIMIT ? { cpuLimit: env.LITECELL_K8S_CPU_LIMIT } : {}),
    ...(env.LITECELL_K8S_CPU_REQUEST ? { cpuRequest: env.LITECELL_K8S_CPU_REQUEST } : {}),
    ...(grace ? { terminationGracePeriodSeconds: Number(grace) } : {}),
  }
  validateKubernetesLauncherOptions(options)
  return options
}
