import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT, SERVE_NODE_ARGS } from '@litecell/testkit/server'
import { expect, test } from 'vitest'

// The control plane's Node flags live where each launch names them: `pnpm start` (root
// package.json, which the tests and benches read through SERVE_NODE_ARGS) and the container
// image's entry point. Catches one of them changed without the other.
test('the container image starts `litecell serve` with the Node flags `pnpm start` uses', () => {
  expect(SERVE_NODE_ARGS).toContain('--max-semi-space-size=4')
  const dockerfile = readFileSync(join(REPO_ROOT, 'infra/Dockerfile'), 'utf8')
  const entryPoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1]
  expect(JSON.parse(entryPoint ?? 'null')).toEqual([
    'node',
    ...SERVE_NODE_ARGS,
    'packages/cli/bin/litecell.js',
    'serve',
  ])
})
