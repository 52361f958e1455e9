import { basename, join, resolve } from 'node:path'
import type { BuildResult, Message } from 'esbuild'
import { DashboardError } from './dashboard-error.js'

/**
 * The package's root folder (holds `ui/` and `node_modules/`). Named from packages/, so it
 * holds in the control plane's bundle (packages/cli/dist/, at the depth of src/) too.
 */
export const PACKAGE_DIR = resolve(import.meta.dirname, '../../dashboard')
/** The browser code: TSX views and CSS, bundled by {@link buildDashboard}. */
export const UI_DIR = join(PACKAGE_DIR, 'ui')
/** URL folder of the hashed assets (relative to the dashboard's root). */
export const ASSETS_PATH = 'assets'

/** One built file, as served: `path` is relative to the dashboard's root (`index.html`, `assets/…`). */
export interface DashboardFile {
  readonly path: string
  readonly body: Uint8Array
}

/**
 * Bundles the UI with esbuild into one content-hashed JavaScript file and one CSS file (the
 * app's styles plus uPlot's), and writes the `index.html` that loads them. Nothing is inline:
 * the page is static markup plus two same-origin files, so the CSP can forbid inline scripts.
 *
 * @throws {DashboardError} `DASHBOARD_BUILD_FAILED` with esbuild's messages.
 */
export async function buildDashboard(options: { readonly uiDir?: string } = {}): Promise<DashboardFile[]> {
  const uiDir = options.uiDir ?? UI_DIR
  // Loaded here, not with this module: a start that finds the build cached never needs it
  // (its JavaScript API alone is ≈ 15 MB of the control plane's RSS).
  const esbuild = await import('esbuild')
  let result: BuildResult<{ write: false; metafile: true }>
  try {
    result = await esbuild.build({
      absWorkingDir: PACKAGE_DIR,
      // Bare imports (preact, uplot) resolve from this package, wherever the UI sources are.
      nodePaths: [join(PACKAGE_DIR, 'node_modules')],
      entryPoints: { app: join(uiDir, 'main.tsx') },
      bundle: true,
      write: false,
      metafile: true,
      outdir: join(PACKAGE_DIR, ASSETS_PATH),
      entryNames: '[name]-[hash]',
      assetNames: '[name]-[hash]',
      format: 'esm',
      target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
      platform: 'browser',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      minify: true,
      sourcemap: 'linked',
      legalComments: 'eof',
      define: { 'process.env.NODE_ENV': '"production"' },
      loader: { '.svg': 'file' },
      logLevel: 'silent',
    })
  } catch (err) {
    await esbuild.stop()
    const errors = (err as { errors?: Message[] }).errors ?? []
    const detail = errors.slice(0, 5).map((message) => `${message.location?.file ?? ''}:${message.location?.line ?? ''} ${message.text}`)
    throw new DashboardError(
      'DASHBOARD_BUILD_FAILED',
      `build dashboard from ${uiDir}: ${detail.join('; ') || (err as Error).message}`,
      { cause: err },
    )
  }
  // The build runs once per start: do not keep esbuild's service process around for nothing
  // (a later call would start it again).
  await esbuild.stop()
  const files: DashboardFile[] = result.outputFiles.map((file) => ({
    path: `${ASSETS_PATH}/${basename(file.path)}`,
    body: file.contents,
  }))
  const script = files.find((file) => /^assets\/app-[^/]+\.js$/.test(file.path))
  const style = files.find((file) => /^assets\/app-[^/]+\.css$/.test(file.path))
  if (!script || !style) {
    throw new DashboardError('DASHBOARD_BUILD_FAILED', `build dashboard from ${uiDir}: esbuild wrote no app script or stylesheet`)
  }
  files.push({ path: 'index.html', body: new TextEncoder().encode(indexHtml(script.path, style.path)) })
  return files
}

/**
 * The page shell. Asset URLs are relative, so the dashboard also works behind a proxy that
 * serves the control plane under a path prefix.
 */
function indexHtml(scriptPath: string, stylePath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>litecell</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${stylePath}">
<script type="module" src="${scriptPath}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The litecell dashboard needs JavaScript. The HTTP API works without it: see the README.</noscript>
</body>
</html>
`
}
