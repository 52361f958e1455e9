import { defineConfig } from 'vitest/config'

// `pnpm test` runs both projects; `pnpm test:unit` only the fast ones: the co-located package
// tests and the in-process route tests (`test/in-process/`: the control plane's app with
// in-process workers, no port or process). End-to-end tests (`test/*.test.ts`) start real
// processes (workers, Litestream, the embedded S3 server), so they get long timeouts and run
// one file at a time to keep a 2-core machine honest.
// The AWS SDK warns on every import under Node 20 that its next versions want Node 22: noise
// in every test's output, and not ours to act on.
const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          env,
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/dashboard/ui/**/*.test.ts',
            'test/in-process/**/*.test.ts',
          ],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          env,
          include: ['test/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
