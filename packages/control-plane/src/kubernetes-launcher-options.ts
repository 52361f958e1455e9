import { readFileSync } from 'node:fs'
import type { KubernetesConnection } from './kubernetes-client.js'

/** The command that runs the worker in the litecell image (infra/Dockerfile). */
export const DEFAULT_WORKER_COMMAND: readonly string[] = [
  'node',
  '--import',
  'tsx',
  'packages/worker/src/main.ts',
]
/** The repository's folder in the image. */
export const DEFAULT_WORKER_WORKING_DIR = '/app'
/** Memory limit (and request) of a worker pod. */
export const DEFAULT_WORKER_MEMORY = '512Mi'
export const DEFAULT_WORKER_CPU_LIMIT = '1'
export const DEFAULT_WORKER_CPU_REQUEST = '250m'
/** A deleted worker's time to hibernate: above the fleet's 120 s hibernate timeout. */
export const DEFAULT_TERMINATION_GRACE_SECONDS = 150
/** How often a worker pod's status is read. */
export const DEFAULT_POD_POLL_MS = 1_000

/** Settings of a {@link KubernetesLauncher}. */
export interface KubernetesLauncherOptions {
  /** The API and namespace; absent: the control plane pod's own service account. */
  readonly connection?: KubernetesConnection
  /** Namespace of the worker pods when `connection` is absent. @default the pod's namespace */
  readonly namespace?: string
  /** The litecell image (the same one the control plane runs). */
  readonly image: string
  /** @default ['node', '--import', 'tsx', 'packages/worker/src/main.ts'] */
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
  /** @default 1000 */
  readonly pollMs?: number
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
  const pollMs = options.pollMs
  if (pollMs !== undefined && (!Number.isInteger(pollMs) || pollMs < 10))
    fail('pollMs', 'an integer from 10 and up', pollMs)
  if (
    options.command !== undefined &&
    (options.command.length === 0 || options.command.some((part) => typeof part !== 'string'))
  ) {
    fail('command', 'a non-empty list of strings', options.command)
  }
}

/**
 * Reads the Kubernetes launcher's settings: LITECELL_K8S_IMAGE (required), LITECELL_K8S_NAMESPACE,
 * LITECELL_K8S_MEMORY, LITECELL_K8S_CPU_LIMIT, LITECELL_K8S_CPU_REQUEST,
 * LITECELL_K8S_GRACE_SECONDS, LITECELL_K8S_POLL_MS; and, outside a cluster only,
 * LITECELL_K8S_API_URL with LITECELL_K8S_TOKEN_FILE and LITECELL_K8S_CA_FILE. Throws a
 * `TypeError` naming the variable.
 */
export function kubernetesLauncherOptionsFromEnv(
  env: NodeJS.ProcessEnv,
): KubernetesLauncherOptions {
  const image = env.LITECELL_K8S_IMAGE
  if (!image)
    throw new TypeError(
      'LITECELL_LAUNCHER=kubernetes needs LITECELL_K8S_IMAGE (the litecell image workers run)',
    )
  const integer = (name: string): number | undefined => {
    const raw = env[name]
    if (!raw) return undefined
    const value = Number(raw)
    if (!Number.isInteger(value))
      throw new TypeError(`Expected ${name} to be an integer, got \`${raw}\``)
    return value
  }
  let connection: KubernetesConnection | undefined
  if (env.LITECELL_K8S_API_URL) {
    const read = (name: string): string | undefined => {
      const file = env[name]
      return file ? readFileSync(file, 'utf8').trim() : undefined
    }
    const token = read('LITECELL_K8S_TOKEN_FILE')
    if (!token)
      throw new TypeError(
        'LITECELL_K8S_API_URL needs LITECELL_K8S_TOKEN_FILE (a file holding the bearer token)',
      )
    const ca = read('LITECELL_K8S_CA_FILE')
    connection = {
      apiUrl: env.LITECELL_K8S_API_URL,
      token,
      namespace: env.LITECELL_K8S_NAMESPACE || 'default',
      ...(ca ? { ca } : {}),
    }
  }
  const options: KubernetesLauncherOptions = {
    image,
    ...(connection ? { connection } : {}),
    ...(env.LITECELL_K8S_NAMESPACE ? { namespace: env.LITECELL_K8S_NAMESPACE } : {}),
    ...(env.LITECELL_K8S_MEMORY ? { memory: env.LITECELL_K8S_MEMORY } : {}),
    ...(env.LITECELL_K8S_CPU_LIMIT ? { cpuLimit: env.LITECELL_K8S_CPU_LIMIT } : {}),
    ...(env.LITECELL_K8S_CPU_REQUEST ? { cpuRequest: env.LITECELL_K8S_CPU_REQUEST } : {}),
    ...(integer('LITECELL_K8S_GRACE_SECONDS') !== undefined
      ? { terminationGracePeriodSeconds: integer('LITECELL_K8S_GRACE_SECONDS')! }
      : {}),
    ...(integer('LITECELL_K8S_POLL_MS') !== undefined
      ? { pollMs: integer('LITECELL_K8S_POLL_MS')! }
      : {}),
  }
  validateKubernetesLauncherOptions(options)
  return options
}
