import { fileURLToPath } from 'node:url'

/** Absolute path of the experiment-sweep example app (the default app of `litecell serve`). */
export const EXPERIMENT_APP_PATH = fileURLToPath(new URL('./experiment-app.ts', import.meta.url))
