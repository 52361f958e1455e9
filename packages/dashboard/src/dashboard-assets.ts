import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, extname, join, relative } from 'node:path'
import { PACKAGE_DIR, UI_DIR, buildDashboard, type DashboardFile } from './dashboard-build.js'

/** Where built asset sets are cached, one folder per source fingerprint. */
export const DEFAULT_CACHE_DIR = join(PACKAGE_DIR, 'dist')
/** Packages whose version changes the bundle. */
const BUNDLED_PACKAGES = ['esbuild', 'eventsource-parser', 'preact', 'uplot']
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
}

/** One file the control plane serves. */
export interface DashboardAsset {
  readonly body: Uint8Array
  readonly contentType: string
  /** Content-hashed (cache forever) rather than the page shell (revalidate). */
  readonly isImmutable: boolean
}

/**
 * The built dashboard, in memory. {@link DashboardAssets.load} reuses the cached build whose
 * fingerprint (a hash of the UI sources, the build script and the bundled packages' versions)
 * matches, and otherwise builds and caches a new one, so `pnpm start` needs no separate build
 * step and an edited UI is rebuilt on the next start. The cache is written to a temporary
 * folder and renamed into place, so servers starting at once never read a half-written set;
 * where the package folder is read-only (a container image), the build is served from memory.
 */
export class DashboardAssets {
  readonly fingerprint: string
  /** True when this load ran esbuild (false: served from the cache). */
  readonly wasBuilt: boolean
  readonly #files: ReadonlyMap<string, DashboardAsset>

  private constructor(fingerprint: string, wasBuilt: boolean, files: readonly DashboardFile[]) {
    this.fingerprint = fingerprint
    this.wasBuilt = wasBuilt
    this.#files = new Map(
      files.map((file) => [
        file.path,
        {
          body: file.body,
          contentType: CONTENT_TYPES[extname(file.path)] ?? 'application/octet-stream',
          isImmutable: file.path !== 'index.html',
        },
      ]),
    )
  }

  /** Loads the cached build for the current sources, building (and caching) it if missing or stale. */
  static async load(options: { readonly uiDir?: string; readonly cacheDir?: string } = {}): Promise<DashboardAssets> {
    const uiDir = options.uiDir ?? UI_DIR
    const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR
    const fingerprint = await sourceFingerprint(uiDir)
    const cached = await readCache(join(cacheDir, fingerprint))
    if (cached) return new DashboardAssets(fingerprint, false, cached)
    const files = await buildDashboard({ uiDir })
    await writeCache(cacheDir, fingerprint, files).catch(() => {
      // A read-only package folder: serving from memory is just as good.
    })
    return new DashboardAssets(fingerprint, true, files)
  }

  /** The file at `path` (`index.html`, `assets/app-<hash>.js`, …), or undefined. */
  get(path: string): DashboardAsset | undefined {
    return this.#files.get(path)
  }

  /** Every served path. */
  paths(): string[] {
    return [...this.#files.keys()]
  }
}

/** Hash of everything the bundle is made from. */
export async function sourceFingerprint(uiDir: string): Promise<string> {
  const hash = createHash('sha256')
  const sourcesOf = async (dir: string) =>
    (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile() && !entry.name.endsWith('.test.ts'))
      .map((entry) => join(entry.parentPath, entry.name))
      .sort()
  // The API client is a workspace package bundled from its sources: its version never moves.
  const client = await sourcesOf(join(PACKAGE_DIR, 'node_modules', '@litecell', 'client', 'src'))
  const sources = [...(await sourcesOf(uiDir)), ...client]
  for (const path of [...sources, join(PACKAGE_DIR, 'src', 'dashboard-build.ts')]) {
    hash.update(`${relative(PACKAGE_DIR, path)}\0`).update(await readFile(path)).update('\0')
  }
  for (const name of BUNDLED_PACKAGES) {
    const manifest = await readFile(join(PACKAGE_DIR, 'node_modules', name, 'package.json'), 'utf8').catch(() => '{}')
    hash.update(`${name}@${(JSON.parse(manifest) as { version?: string }).version ?? '?'}\0`)
  }
  return hash.digest('hex').slice(0, 16)
}

async function readCache(dir: string): Promise<DashboardFile[] | null> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true })
    const files = await Promise.all(
      entries
        .filter((entry) => entry.isFile())
        .map(async (entry) => {
          const path = join(entry.parentPath, entry.name)
          return { path: relative(dir, path), body: new Uint8Array(await readFile(path)) }
        }),
    )
    return files.some((file) => file.path === 'index.html') ? files : null
  } catch {
    return null
  }
}

/** Writes the set beside its final folder, renames it into place, and drops older sets. */
async function writeCache(cacheDir: string, fingerprint: string, files: readonly DashboardFile[]): Promise<void> {
  const temporary = join(cacheDir, `.tmp-${fingerprint}-${randomBytes(4).toString('hex')}`)
  for (const file of files) {
    const path = join(temporary, file.path)
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, file.body)
  }
  try {
    await rename(temporary, join(cacheDir, fingerprint))
  } catch {
    // Another server starting at the same time cached the same set first.
    await rm(temporary, { recursive: true, force: true })
  }
  for (const entry of await readdir(cacheDir)) {
    if (entry !== fingerprint && !entry.startsWith('.tmp-')) {
      await rm(join(cacheDir, entry), { recursive: true, force: true })
    }
  }
}
