import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as engine from '@litecell/engine'

/**
 * The bundled worker (scripts/build.mjs) has no TypeScript loader: it runs each app module
 * from a JavaScript bundle of it, compiled once per app version (a changed, added or removed
 * source of the app makes a new one) into this folder beside the worker bundle. Running from
 * the TypeScript sources (tests, development under tsx), apps load as they are.
 */
const BUNDLED = !import.meta.url.endsWith('.ts')
const CACHE_DIR = fileURLToPath(new URL('./apps/', import.meta.url))
/** This module's file: the worker bundle when bundled. */
const COMPILER = fileURLToPath(import.meta.url)

/**
 * The engine an app imports (`import { defineApp } from '@litecell/engine'`) is the worker's
 * own instance, handed over through this global, never a second copy bundled into the app.
 */
const ENGINE_GLOBAL = 'Symbol.for("litecell.engine")'

/** Where an app's compiled bundle is, for the safety net: app code lives there too. */
export function compiledAppsDir(): string | undefined {
  return BUNDLED ? CACHE_DIR : undefined
}

/**
 * The URL to `import()` for the app module at `appPath`: the module itself under a TypeScript
 * loader, otherwise its compiled bundle (compiled now if missing or older than a source).
 *
 * @throws the compiler's error (a syntax error, an unresolved import) with the module's path.
 */
export async function appModuleUrl(appPath: string): Promise<string> {
  return BUNDLED ? compiledAppUrl(appPath, CACHE_DIR) : pathToFileURL(resolve(appPath)).href
}

/**
 * The URL of the app module's bundle in `cacheDir`, compiled first if it is missing or older
 * than one of its sources: once per app version, whatever the number of wakes.
 */
export async function compiledAppUrl(appPath: string, cacheDir: string): Promise<string> {
  const source = resolve(appPath)
  ;(globalThis as Record<symbol, unknown>)[Symbol.for('litecell.engine')] = engine
  const key = createHash('sha256').update(source).digest('hex').slice(0, 12)
  const outfile = join(cacheDir, `${basename(source, extname(source))}-${key}.mjs`)
  if (isStale(outfile)) await compile(source, outfile)
  return pathToFileURL(outfile).href
}

/** Missing, or one of the inputs it was compiled from changed (one stat per input). */
function isStale(outfile: string): boolean {
  if (!existsSync(outfile)) return true
  try {
    const manifest = JSON.parse(readFileSync(`${outfile}.inputs.json`, 'utf8')) as {
      inputs: Record<string, number>
    }
    return Object.entries(manifest.inputs).some(
      ([path, mtimeMs]) => !existsSync(path) || statSync(path).mtimeMs !== mtimeMs,
    )
  } catch {
    return true
  }
}

async function compile(source: string, outfile: string): Promise<void> {
  const esbuild = await import('esbuild')
  try {
    await bundle(esbuild, source, outfile)
  } finally {
    // esbuild's service is a child process: a worker must not keep it beside its tenant.
    await esbuild.stop()
  }
}

async function bundle(
  esbuild: typeof import('esbuild'),
  source: string,
  outfile: string,
): Promise<void> {
  const exportNames = Object.keys(engine).filter(
    (name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default',
  )
  const result = await esbuild.build({
    entryPoints: [source],
    outfile,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'silent',
    // CommonJS dependencies of the app call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __litecellRequire } from 'node:module'; const require = __litecellRequire(import.meta.url);",
    },
    plugins: [
      {
        name: 'litecell-engine',
        setup(build) {
          build.onResolve({ filter: /^@litecell\/engine$/ }, () => ({
            path: 'engine',
            namespace: 'litecell',
          }))
          build.onLoad({ filter: /.*/, namespace: 'litecell' }, () => ({
            loader: 'js',
            contents: `const engine = globalThis[${ENGINE_GLOBAL}];\n${exportNames.map((name) => `export const ${name} = engine.${name};`).join('\n')}\n`,
          }))
        },
      },
    ],
  })
  // The compiler is an input too (in the bundled worker: the worker bundle): a new worker may
  // compile apps differently (the engine shim, the banner), so its first wake recompiles.
  const inputs: Record<string, number> = { [COMPILER]: statSync(COMPILER).mtimeMs }
  for (const path of Object.keys(result.metafile.inputs)) {
    if (path.startsWith('litecell:')) continue
    const file = resolve(path)
    inputs[file] = statSync(file).mtimeMs
  }
  mkdirSync(dirname(outfile), { recursive: true })
  // Temporary files renamed into place, the bundle last: a worker starting meanwhile reads
  // the old bundle or the new one, never half of one.
  const suffix = `.${process.pid}.tmp`
  const files = result.outputFiles.map((file) => ({ path: file.path, contents: file.contents }))
  files.push({
    path: `${outfile}.inputs.json`,
    contents: Buffer.from(JSON.stringify({ source, inputs })),
  })
  for (const file of files) writeFileSync(`${file.path}${suffix}`, file.contents)
  for (const file of files.sort((a) => (a.path === outfile ? 1 : -1)))
    renameSync(`${file.path}${suffix}`, file.path)
}
