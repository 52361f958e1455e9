import { statSync, utimesSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// Catches: a bundle that keeps running after the build script's own settings changed (its
// externals, banner or esbuild options), because the staleness check tracked only the sources
// esbuild read, not the script that says how to bundle them.
const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url))
const { build, isStale } = (await import(BUILD_SCRIPT)) as {
  build: (name: string) => Promise<string>
  isStale: (name: string) => boolean
}

describe('bundle staleness', () => {
  it('a change to the build script makes a bundle stale', async () => {
    await build('query-thread')
    expect(isStale('query-thread')).toBe(false)
    const { atime, mtime } = statSync(BUILD_SCRIPT)
    try {
      utimesSync(BUILD_SCRIPT, atime, new Date(mtime.getTime() + 60_000))
      expect(isStale('query-thread')).toBe(true)
    } finally {
      // Back to its time (to the millisecond: the bundles rebuild once more, nothing else).
      utimesSync(BUILD_SCRIPT, atime, mtime)
    }
  })
})
