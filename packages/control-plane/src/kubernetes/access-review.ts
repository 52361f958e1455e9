import type { KubernetesApi } from './kubernetes-api.js'
import { HINTS, KubernetesError } from './kubernetes-error.js'

/** What the launcher does in its namespace: infra/kubernetes/rbac.yaml grants exactly this. */
export const REQUIRED_PERMISSIONS: readonly string[] = [
  'create pods',
  'get pods',
  'list pods',
  'watch pods',
  'delete pods',
  'patch pods',
  'get pods/log',
  'create secrets',
  'delete secrets',
  'patch secrets',
]

/**
 * Asks the API server whether the service account holds every permission the launcher uses
 * (SelfSubjectAccessReview, which any authenticated account may ask), so a Role missing a
 * verb stops the control plane at start with `K8S_FORBIDDEN` naming what is missing, not
 * its first wake.
 */
export async function checkAccess(api: KubernetesApi): Promise<void> {
  const answers = await Promise.all(
    REQUIRED_PERMISSIONS.map(async (permission) => {
      const [verb, target] = permission.split(' ') as [string, string]
      return (await api.mayDo(verb, target)) ? null : permission
    }),
  )
  const missing = answers.filter((permission) => permission !== null)
  if (missing.length > 0) {
    throw new KubernetesError(
      'K8S_FORBIDDEN',
      `the control plane's service account may not ${missing.join(', ')} in namespace ${api.namespace}; ${HINTS.K8S_FORBIDDEN}`,
      { status: 403 },
    )
  }
}
