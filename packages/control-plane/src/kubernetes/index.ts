/**
 * `@litecell/control-plane/kubernetes`: the launcher that runs workers as pods. An entry of its
 * own because it loads the Kubernetes client, which a control plane running local workers never
 * needs (`ControlPlane.start` imports it only for pods).
 */
export { KubernetesLauncher } from './kubernetes-launcher.js'
