/**
 * Stable codes of failures talking to the Kubernetes API. They are not in
 * `ControlPlaneErrorCode` because they never reach a client of the HTTP API: a failed pod
 * launch surfaces there as `WORKER_START_FAILED`, naming the tenant's log, where the
 * {@link KubernetesError} message is written.
 */
export type KubernetesErrorCode =
  /** The settings are unusable (no token, no namespace, a bad URL). */
  | 'K8S_CONFIG'
  /** 401: the service-account token was refused (expired, wrong cluster). */
  | 'K8S_UNAUTHORIZED'
  /** 403: RBAC forbids the call; the Role in infra/kubernetes/rbac.yaml grants it. */
  | 'K8S_FORBIDDEN'
  /** 404: the namespace (or the pod) does not exist. */
  | 'K8S_NOT_FOUND'
  /** 409: the object exists already (a pod for this tenant and epoch). */
  | 'K8S_CONFLICT'
  /** 400/422: the API refused the object (a bad image name, limits, labels). */
  | 'K8S_INVALID'
  /** 5xx, 429, a network or TLS failure: the API server could not be used. */
  | 'K8S_UNAVAILABLE'

/** A Kubernetes API failure: a stable `code`, the HTTP status, and what was being done. */
export class KubernetesError extends Error {
  override name = 'KubernetesError'
  readonly code: KubernetesErrorCode
  /** HTTP status of the API's answer; undefined for a network or configuration failure. */
  readonly status: number | undefined

  constructor(
    code: KubernetesErrorCode,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause })
    this.code = code
    this.status = options.status
  }
}

/** The error code for an API answer's HTTP status. */
export function codeForStatus(status: number): KubernetesErrorCode {
  if (status === 401) return 'K8S_UNAUTHORIZED'
  if (status === 403) return 'K8S_FORBIDDEN'
  if (status === 404) return 'K8S_NOT_FOUND'
  if (status === 409) return 'K8S_CONFLICT'
  if (status === 400 || status === 422) return 'K8S_INVALID'
  return 'K8S_UNAVAILABLE'
}

/** What to check for each code: the hint appended to messages an operator reads. */
export const HINTS: Readonly<Record<KubernetesErrorCode, string>> = {
  K8S_CONFIG: 'check LITECELL_K8S_* and the service-account files',
  K8S_UNAUTHORIZED: 'check the service-account token (automountServiceAccountToken)',
  K8S_FORBIDDEN:
    'check the Role and RoleBinding of the control plane service account (infra/kubernetes/rbac.yaml)',
  K8S_NOT_FOUND: 'check LITECELL_K8S_NAMESPACE: the namespace must exist',
  K8S_CONFLICT: 'an object of that name exists already',
  K8S_INVALID: 'check LITECELL_K8S_IMAGE and the memory/cpu limits',
  K8S_UNAVAILABLE: 'check that the API server is reachable from the control plane',
}
