/**
 * App modules compiled for the bundled worker (issue 12). Catches: a compile per wake instead of
 * per app version, a stale bundle after the app changed, and an app carrying its own copy of
 * the engine (its `defineApp` would not be the worker's).
 */
import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, test } from 'vitest'
import * as engine from '@litecell/engine'
import { compiledAppUrl } from './app-compiler.js'

const COMPILER = fileURLToPath(new URL('./app-compiler.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'litecell-app-compiler-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const appSource = (answer: number) => `
import { defineApp } from '@litecell/engine'
import { helper } from './helper.ts'
const typed: number = ${answer}
export const usedDefineApp = defineApp
export default defineApp({ workflows: { answer: async () => helper(typed) } })
`

test(
  'an app is compiled once per version, with the worker’s own engine',
  { timeout: 60_000 },
  async () => {
    const cache = join(dir, 'cache')
    const app = join(dir, 'app.ts')
    writeFileSync(join(dir, 'helper.ts'), 'export const helper = (n: number): number => n + 1\n')
    writeFileSync(app, appSource(41))

    const url = await compiledAppUrl(app, cache)
    const bundle = new URL(url).pathname
    const compiledAtMs = statSync(bundle).mtimeMs
    const module = (await import(url)) as {
      usedDefineApp: unknown
      default: { workflows: Record<string, () => Promise<number>> }
    }
    expect(module.usedDefineApp).toBe(engine.defineApp)
    expect(await module.default.workflows.answer!()).toBe(42)

    // Woken again, nothing changed: the same bundle, not compiled again.
    expect(await compiledAppUrl(app, cache)).toBe(url)
    expect(statSync(bundle).mtimeMs).toBe(compiledAtMs)

    // A helper module of the app changed: a new compile into the same place.
    writeFileSync(join(dir, 'helper.ts'), 'export const helper = (n: number): number => n + 2\n')
    const later = new Date(Date.now() + 5_000)
    utimesSync(join(dir, 'helper.ts'), later, later)
    expect(await compiledAppUrl(app, cache)).toBe(url)
    const recompiled = (await import(`${url}?v=2`)) as typeof module
    expect(await recompiled.default.workflows.answer!()).toBe(43)
    expect(readdirSync(cache).filter((name) => name.endsWith('.tmp'))).toEqual([])

    // A new compiler (a rebuilt worker) compiles again, though the app did not change.
    // Catches: bundles made by an older worker's compiler kept forever.
    const recompiledAtMs = statSync(bundle).mtimeMs
    const { atime, mtime } = statSync(COMPILER)
    try {
      utimesSync(COMPILER, atime, new Date(mtime.getTime() + 60_000))
      expect(await compiledAppUrl(app, cache)).toBe(url)
      expect(statSync(bundle).mtimeMs).not.toBe(recompiledAtMs)
    } finally {
      utimesSync(COMPILER, atime, mtime)
    }
  },
)

test('an app that does not compile fails with the compiler’s error and leaves no bundle', async () => {
  const cache = join(dir, 'broken-cache')
  const app = join(dir, 'broken.ts')
  writeFileSync(app, 'export default { workflows: { x: async () => ( } }\n')
  await expect(compiledAppUrl(app, cache)).rejects.toThrow(/broken\.ts/)
  expect(() => readdirSync(cache)).toThrow()
})
