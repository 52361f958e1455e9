/** The build script of every bundle (plain JavaScript; src/ and dist/ are both 3 levels down). */
const BUILD_SCRIPT = new URL('../../../scripts/build.mjs', import.meta.url).href
/** The control plane's bundle (scripts/build.mjs, target `serve`). */
const SERVE_BUNDLE = new URL('../dist/serve.mjs', import.meta.url).href
/** The command's source, for a CLI that runs from its TypeScript sources (tests, under tsx). */
const SERVE_SOURCE = new URL('./serve-command.ts', import.meta.url).href

/**
 * `litecell serve` runs the control plane from a bundle of its own (issue 12: no TypeScript
 * compile at run time), loaded on this one command so every other command starts without its
 * module graph; it is rebuilt first when a source changed. Under a TypeScript loader (the CLI
 * run from its sources) the command's source is imported instead.
 */
export async function runServe(options: { readonly newRegistry?: boolean } = {}): Promise<void> {
  // URLs in variables: the CLI's own bundle must not inline the control plane.
  let url = SERVE_SOURCE
  if (!import.meta.url.endsWith('.ts')) {
    const { build, isStale } = (await import(BUILD_SCRIPT)) as {
      build: (name: string) => Promise<string>
      isStale: (name: string) => boolean
    }
    if (isStale('serve')) await build('serve')
    // Stack traces in logs and crash reports name the .ts sources (the bundle's linked map).
    process.setSourceMapsEnabled(true)
    url = SERVE_BUNDLE
  }
  const { serveCommand } = (await import(url)) as typeof import('./serve-command.js')
  await serveCommand(process.env, options)
}
