/**
 * The Kubernetes launcher's tests' harness: a fake API server and kubelet on loopback, and a real
 * control plane whose workers are pods there.
 */
export { FakeKubernetesApi } from './kubernetes/fake-api.js'
export type { FakeCall } from './kubernetes/fake-api.js'
export { startFakeCluster } from './kubernetes/fake-cluster.js'
export type { FakeCluster } from './kubernetes/fake-cluster.js'
export { startPodControlPlane } from './kubernetes/pod-control-plane.js'
export type { PodControlPlane, PodControlPlaneOptions } from './kubernetes/pod-control-plane.js'
