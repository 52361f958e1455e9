#!/usr/bin/env node
/**
 * The one esbuild build of litecell's Node entry points: each target bundles one entry point
 * (TypeScript sources and the npm packages it imports) into one ESM file under its package's
 * `dist/`, beside a manifest listing every input file (this script included) with its
 * modification time. A launcher (`packages/cli/bin/litecell.js`) compares that manifest with the files on disk and rebuilds
 * when anything changed, so a checkout never runs a stale bundle and needs no build step of
 * its own; `pnpm install` also builds once (the root `prepare` script).
 *
 * Plain JavaScript on purpose: it runs at install time and from the CLI's first start, before
 * any TypeScript loader is available.
 *
 *   node scripts/build.mjs            # every target
 *   node scripts/build.mjs cli        # one target
 *
 * To bundle another entry point, add a target: its entry, its output, the packages that must
 * stay outside the bundle (native addons such as libsql, and packages that find files next to
 * themselves at run time) and files copied beside it as they are.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, extname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** This script. */
const BUILD_SCRIPT = fileURLToPath(import.meta.url)

/** The repository root. */
export const REPO_ROOT = resolve(dirname(BUILD_SCRIPT), '..')

/** Packages the worker's bundles load at run time instead of bundling them. */
// The OpenTelemetry SDK is loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set: left out of the
// bundle, a worker without it does not parse it (≈ 1.3 MB).
const OTEL_SDK = ['@opentelemetry/sdk-trace-node', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/resources']
// The AWS SDK likewise (issue 12): the replica package imports it only for a storage config
// without explicit credentials (IRSA, instance roles); with them a worker never parses it
// (≈ 2.4 MB of bundle, ≈ 25 MB of RSS). Bundled, its dynamic import would be inlined.
const AWS_SDK = ['@aws-sdk/client-s3']
const WORKER_EXTERNAL = ['libsql', 'lz4-napi', '@flydotio/*', 's3rver', 'esbuild', 'tsx', 'tsx/*', ...OTEL_SDK, ...AWS_SDK]

/**
 * Packages the control plane's bundle loads at run time: native addons, esbuild (the
 * dashboard's build at start) and the OpenTelemetry SDK (only with an OTLP endpoint).
 */
const CONTROL_PLANE_EXTERNAL = ['libsql', 'lz4-napi', 'esbuild', ...OTEL_SDK]

/**
 * What can be built. `external`: packages resolved at run time from the output's folder
 * instead of bundled. `splitting`: dynamic imports become chunk files beside the bundle,
 * named `<bundle>-<module>-<hash>.mjs` (a rebuild leaves older chunks in place: a process
 * started before it may still import them).
 */
export const TARGETS = {
  cli: {
    entry: 'packages/cli/src/main.ts',
    outfile: 'packages/cli/dist/litecell.mjs',
    external: [],
  },
  // The control plane that `litecell serve` runs (issue 12): a bundle of its own, which the CLI
  // loads (and rebuilds when stale) on that command only, so no other command parses it or
  // stats its inputs. Its externals are found from packages/cli/, which depends on them for that
  // reason; files it reads at run time are found from their own package (see `new URL('../../…')`
  // in the sources: dist/ and src/ sit at the same depth).
  // Split: what it imports lazily (the Kubernetes launcher, with the Kubernetes client, ≈ 4.7
  // MB; parts of the AWS SDK) goes to chunk files beside it, read only when imported.
  serve: {
    entry: 'packages/cli/src/serve-command.ts',
    outfile: 'packages/cli/dist/serve.mjs',
    external: CONTROL_PLANE_EXTERNAL,
    splitting: true,
  },
  // The worker process (issue 12): no TypeScript loader, no esbuild service beside each tenant.
  // Native addons and the Litestream binary's package are found from packages/worker/ at run
  // time (the worker package depends on them for that reason).
  worker: {
    entry: 'packages/worker/src/main.ts',
    outfile: 'packages/worker/dist/worker.mjs',
    external: WORKER_EXTERNAL,
  },
  // The engine's query thread, loaded by the bundled engine from beside the worker bundle
  // (query-thread.ts names `./query-thread-entry.js` and `./query-thread-boot.mjs`).
  'query-thread': {
    entry: 'packages/engine/src/query-thread-entry.ts',
    outfile: 'packages/worker/dist/query-thread-entry.js',
    external: WORKER_EXTERNAL,
    copy: { 'packages/engine/src/query-thread-boot.mjs': 'packages/worker/dist/query-thread-boot.mjs' },
  },
  // The throwaway process of `checkApps` (litecell serve's start): loads, and compiles, each app.
  'app-check': {
    entry: 'packages/worker/src/app-check-entry.ts',
    outfile: 'packages/worker/dist/app-check.mjs',
    external: WORKER_EXTERNAL,
  },
}

/** The manifest beside a bundle: its inputs and their modification times. */
export function manifestPath(outfile) {
  return outfile.replace(/\.m?js$/, '.inputs.json')
}

/**
 * Whether the bundle of `target` is missing or older than any of its inputs (a changed,
 * added-to or removed source). Cheap: one stat per input file, no hashing.
 */
export function isStale(name, root = REPO_ROOT) {
  const target = TARGETS[name]
  const outfile = join(root, target.outfile)
  if (!existsSync(outfile)) return true
  let manifest
  try {
    manifest = JSON.parse(readFileSync(manifestPath(outfile), 'utf8'))
  } catch {
    return true
  }
  for (const [from, to] of Object.entries(target.copy ?? {})) {
    if (!existsSync(join(root, to))) return true
    if (!(from in (manifest.inputs ?? {}))) return true
  }
  for (const path of manifest.chunks ?? []) if (!existsSync(join(root, path))) return true
  for (const [path, mtimeMs] of Object.entries(manifest.inputs ?? {})) {
    try {
      if (statSync(join(root, path)).mtimeMs !== mtimeMs) return true
    } catch {
      return true
    }
  }
  return false
}

/**
 * Bundles one target. Writes to temporary files first and renames them into place, so a
 * process starting meanwhile reads the old bundle or the new one, never half of one.
 */
export async function build(name, root = REPO_ROOT) {
  const target = TARGETS[name]
  if (!target) throw new Error(`unknown build target ${name}; known: ${Object.keys(TARGETS).join(', ')}`)
  const esbuild = await import('esbuild')
  const outfile = join(root, target.outfile)
  const bundleName = basename(outfile, extname(outfile))
  const result = await esbuild.build({
    absWorkingDir: root,
    ...(target.splitting
      ? {
          entryPoints: { [bundleName]: join(root, target.entry) },
          outdir: dirname(outfile),
          splitting: true,
          chunkNames: `${bundleName}-[name]-[hash]`,
          outExtension: { '.js': extname(outfile) },
        }
      : { entryPoints: [join(root, target.entry)], outfile }),
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: target.external,
    // CommonJS dependencies (commander, cli-table3) call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __litecellRequire } from 'node:module'; const require = __litecellRequire(import.meta.url);",
    },
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    logLevel: 'silent',
  })
  // This script is an input too: a change to a target's externals, banner or options must
  // rebuild, though no source changed.
  const inputs = { [relative(root, BUILD_SCRIPT)]: statSync(BUILD_SCRIPT).mtimeMs }
  for (const path of Object.keys(result.metafile.inputs)) {
    const file = resolve(root, path)
    inputs[relative(root, file)] = statSync(file).mtimeMs
  }
  mkdirSync(dirname(outfile), { recursive: true })
  const suffix = `.${process.pid}.tmp`
  const files = result.outputFiles.map((file) => ({ path: file.path, contents: file.contents }))
  for (const [from, to] of Object.entries(target.copy ?? {})) {
    inputs[from] = statSync(join(root, from)).mtimeMs
    files.push({ path: join(root, to), contents: readFileSync(join(root, from)) })
  }
  const chunks = target.splitting
    ? Object.keys(result.metafile.outputs).filter((path) => !path.endsWith('.map') && resolve(root, path) !== outfile)
    : []
  files.push({ path: manifestPath(outfile), contents: JSON.stringify({ entry: target.entry, inputs, chunks }, null, 1) })
  for (const file of files) writeFileSync(`${file.path}${suffix}`, file.contents)
  // The bundle last: a reader that sees the new bundle sees its map and manifest too.
  for (const file of files.sort((a) => (a.path === outfile ? 1 : -1))) renameSync(`${file.path}${suffix}`, file.path)
  return outfile
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const names = process.argv.slice(2)
  for (const name of names.length > 0 ? names : Object.keys(TARGETS)) {
    const startedAtMs = Date.now()
    const outfile = await build(name)
    console.log(`built ${name}: ${relative(REPO_ROOT, outfile)} (${Date.now() - startedAtMs} ms)`)
  }
}
