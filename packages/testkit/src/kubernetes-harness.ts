/** The Kubernetes launcher's tests' harness: a fake API server and kubelet on loopback. */
export { FakeKubernetesApi } from './kubernetes/fake-api.js'
export type { FakeCall } from './kubernetes/fake-api.js'
export { startFakeCluster } from './kubernetes/fake-cluster.js'
export type { FakeCluster } from './kubernetes/fake-cluster.js'
