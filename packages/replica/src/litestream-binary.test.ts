import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveLitestream } from './litestream-binary.js'
import { isReplicaError } from './replica-error.js'

describe('resolveLitestream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'litecell-bin-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('finds the binary of the platform npm package and reports its version', async () => {
    const binary = await resolveLitestream({ PATH: '' })
    expect(binary.path).toMatch(/@flydotio\/litestream-linux-x64\/litestream$/)
    expect(binary.version).toBe('v0.3.13')
  })

  it('prefers LITESTREAM_BIN', async () => {
    const npm = await resolveLitestream({ PATH: '' })
    const link = join(dir, 'my-litestream')
    symlinkSync(npm.path, link)
    expect(await resolveLitestream({ LITESTREAM_BIN: link })).toEqual({
      path: link,
      version: 'v0.3.13',
    })
  })

  it('names a LITESTREAM_BIN that is not executable', async () => {
    const err = await resolveLitestream({ LITESTREAM_BIN: join(dir, 'missing') }).catch(
      (e: unknown) => e,
    )
    expect(isReplicaError(err) && err.code).toBe('LITESTREAM_NOT_FOUND')
    expect(String(err)).toMatch(/LITESTREAM_BIN=.*missing is not an executable file/)
  })

  it('rejects a file that does not run as litestream', async () => {
    const fake = join(dir, 'fake')
    writeFileSync(fake, '#!/bin/sh\nexit 3\n')
    chmodSync(fake, 0o755)
    const err = await resolveLitestream({ LITESTREAM_BIN: fake }).catch((e: unknown) => e)
    expect(isReplicaError(err) && err.code).toBe('LITESTREAM_NOT_FOUND')
  })
})
