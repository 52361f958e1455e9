/**
 * `litecell serve` runs the control plane, whose packages are TypeScript run through tsx (their
 * bundling is issue 12): the bundled CLI loads them from source on this one command, so every
 * other command starts without the control plane's module graph or a TypeScript loader.
 */
export async function runServe(options: { readonly newRegistry?: boolean } = {}): Promise<void> {
  // From the bundle (dist/litecell.mjs) or the sources (src/…), the same file: ../src/.
  const source = new URL('../src/serve-command.ts', import.meta.url)
  if (!import.meta.url.endsWith('.ts')) {
    const { register } = await import('tsx/esm/api')
    register()
  }
  const { serveCommand } = (await import(source.href)) as typeof import('./serve-command.js')
  await serveCommand(process.env, options)
}
