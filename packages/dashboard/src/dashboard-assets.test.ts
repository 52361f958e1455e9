import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DashboardAssets } from './dashboard-assets.js'
import { UI_DIR } from './dashboard-build.js'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

async function tempCopyOfUi(): Promise<{ uiDir: string; cacheDir: string }> {
  const root = await mkdtemp(join(tmpdir(), 'litecell-dashboard-'))
  dirs.push(root)
  await cp(UI_DIR, join(root, 'ui'), { recursive: true })
  return { uiDir: join(root, 'ui'), cacheDir: join(root, 'dist') }
}

describe('DashboardAssets', () => {
  it('builds a hashed script and stylesheet that index.html loads, with no inline script', async () => {
    const { uiDir, cacheDir } = await tempCopyOfUi()
    const assets = await DashboardAssets.load({ uiDir, cacheDir })
    expect(assets.wasBuilt).toBe(true)
    const html = new TextDecoder().decode(assets.get('index.html')!.body)
    const script = /<script type="module" src="(assets\/app-[A-Z0-9]+\.js)"><\/script>/.exec(html)?.[1]
    const style = /<link rel="stylesheet" href="(assets\/app-[A-Z0-9]+\.css)">/.exec(html)?.[1]
    expect(assets.get(script!)).toMatchObject({ contentType: 'text/javascript; charset=utf-8', isImmutable: true })
    expect(assets.get(style!)?.contentType).toBe('text/css; charset=utf-8')
    expect(html.match(/<script/g)).toHaveLength(1)
    expect(assets.get('index.html')!.isImmutable).toBe(false)
  })

  it('reuses the cached build until a source changes, then rebuilds and drops the old set', async () => {
    const { uiDir, cacheDir } = await tempCopyOfUi()
    const first = await DashboardAssets.load({ uiDir, cacheDir })
    const again = await DashboardAssets.load({ uiDir, cacheDir })
    expect(again).toMatchObject({ wasBuilt: false, fingerprint: first.fingerprint })
    expect(again.paths().sort()).toEqual(first.paths().sort())
    await writeFile(join(uiDir, 'styles.css'), '\n.changed { color: red; }\n', { flag: 'a' })
    const rebuilt = await DashboardAssets.load({ uiDir, cacheDir })
    expect(rebuilt.wasBuilt).toBe(true)
    expect(rebuilt.fingerprint).not.toBe(first.fingerprint)
    expect(await readdir(cacheDir)).toEqual([rebuilt.fingerprint])
  })

  it('serves from memory when the cache folder cannot be written', async () => {
    const { uiDir } = await tempCopyOfUi()
    const notADir = join(dirs[0]!, 'file')
    await writeFile(notADir, 'x')
    const assets = await DashboardAssets.load({ uiDir, cacheDir: join(notADir, 'dist') })
    expect(assets.get('index.html')).toBeDefined()
  })
})
