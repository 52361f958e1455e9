import { fileURLToPath } from 'node:url'

/**
 * Absolute path of the experiment-sweep example app (the default app of `litecell serve`).
 * Named from packages/, so it holds in the control plane's bundle (packages/cli/dist/) too.
 */
export const EXPERIMENT_APP_PATH = fileURLToPath(new URL('../../examples/src/experiment-app.ts', import.meta.url))
