/**
 * The client README's example runs as written (issue 13 §5): the first TypeScript block of
 * packages/client/README.md, taken from the file at test time, runs as an ES module against a
 * real `litecell serve` with the default example app. Catches a README that drifted from the
 * client (a renamed method or option, a changed answer shape, `watchRun` that never ends,
 * errors that are not `LitecellError`s with the API's code).
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '@litecell/testkit/server'
import { useServer } from '@litecell/testkit/e2e'
import { afterAll, expect, test } from 'vitest'

// No LITECELL_APPS: the default app, as `pnpm start` runs it (the README's `train`).
const server = useServer({ env: { LITECELL_APPS: '', LITECELL_IDLE_MS: '60000' } })
const dir = mkdtempSync(join(tmpdir(), 'litecell-readme-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function readmeExample(): string {
  const readme = readFileSync(join(REPO_ROOT, 'packages/client/README.md'), 'utf8')
  const block = /```ts\n([\s\S]*?)```/.exec(readme)
  if (!block?.[1]) throw new Error('packages/client/README.md has no ```ts block')
  return block[1]
}

test('the README example is at most 15 lines and prints the run, its statuses and a typed error', async () => {
  const example = readmeExample()
  expect(example.trimEnd().split('\n').length).toBeLessThanOrEqual(15)
  // A folder outside the repository that has the client installed, as a user's project has.
  mkdirSync(join(dir, 'node_modules/@litecell'), { recursive: true })
  symlinkSync(join(REPO_ROOT, 'packages/client'), join(dir, 'node_modules/@litecell/client'))
  writeFileSync(join(dir, 'example.mts'), example)
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), 'example.mts'], {
    cwd: dir,
    env: { ...process.env, LITECELL_URL: server.url, LITECELL_TOKEN: server.adminToken },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  expect(code, stderr).toBe(0)
  const lines = stdout.trim().split('\n')
  // watchRun: the status now, then each change, ending with the final one.
  const lastStatus = lines.indexOf('succeeded')
  expect(lastStatus, stdout).toBeGreaterThanOrEqual(0)
  expect(
    lines.slice(0, lastStatus).every((line) => /^[a-z]+$/.test(line)),
    stdout,
  ).toBe(true)
  expect(lines[lastStatus + 1]).toMatch(/^\{ lr: 0\.1, loss: [\d.]+, approved: null \}$/)
  expect(lines[lastStatus + 2]).toBe('RUN_NOT_FOUND 404')
  expect(lines).toHaveLength(lastStatus + 3)
  const tenants = await server.admin.listTenants()
  expect(tenants.filter((tenant) => tenant.labels?.team === 'ml')).toHaveLength(1)
})
