import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { DEFAULT_URL, resolveConnection } from './connection.js'

const tempDirs: string[] = []
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'litecell-cli-unit-'))
  tempDirs.push(dir)
  return dir
}

function dirWithAdminToken(token: string): string {
  const cwd = tempDir()
  mkdirSync(join(cwd, '.litecell'))
  writeFileSync(join(cwd, '.litecell', 'admin-token'), `${token}\n`)
  return cwd
}

describe('resolveConnection', () => {
  test('--token wins over LITECELL_TOKEN, which wins over the admin-token file', () => {
    const cwd = dirWithAdminToken('lca_file')
    const env = { LITECELL_TOKEN: 'lct_env' }
    expect(resolveConnection({ token: 'lct_flag' }, env, cwd)).toMatchObject({
      token: 'lct_flag',
      tokenSource: '--token',
    })
    expect(resolveConnection({}, env, cwd)).toMatchObject({
      token: 'lct_env',
      tokenSource: 'LITECELL_TOKEN',
    })
    expect(resolveConnection({}, {}, cwd)).toMatchObject({ token: 'lca_file' })
  })

  test('the admin-token file is looked up in LITECELL_DATA_DIR, relative to the current directory', () => {
    const cwd = dirWithAdminToken('lca_default')
    mkdirSync(join(cwd, 'elsewhere'))
    writeFileSync(join(cwd, 'elsewhere', 'admin-token'), 'lca_elsewhere')
    expect(resolveConnection({}, { LITECELL_DATA_DIR: 'elsewhere' }, cwd).token).toBe(
      'lca_elsewhere',
    )
  })

  test('no token anywhere means no token; the URL defaults to the local control plane', () => {
    const cwd = tempDir()
    expect(resolveConnection({}, {}, cwd)).toEqual({
      url: DEFAULT_URL,
      token: undefined,
      tokenSource: undefined,
      tokenFile: join(cwd, '.litecell', 'admin-token'),
    })
    expect(resolveConnection({ url: 'http://a:1' }, { LITECELL_URL: 'http://b:2' }, cwd).url).toBe(
      'http://a:1',
    )
    expect(resolveConnection({}, { LITECELL_URL: 'http://b:2' }, cwd).url).toBe('http://b:2')
  })
})
