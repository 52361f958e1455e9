/**
 * Entry point of the throwaway process of {@link checkApps} (app-check.ts): loads each app module
 * named on the command line (a JSON object of name → path) as a worker would, and prints one
 * JSON line: the failures, `{name, path, message}` each. Loading app code here, not in the
 * control plane, keeps the control plane free of app code and of the TypeScript compiler.
 */
import { loadApp } from './app-loader.js'

const apps = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>
const failures: { name: string; path: string; message: string }[] = []
for (const [name, path] of Object.entries(apps)) {
  try {
    await loadApp(path)
  } catch (err) {
    failures.push({ name, path, message: (err as Error).message })
  }
}
process.stdout.write(`${JSON.stringify({ failures })}\n`)
// App modules may leave timers or handles behind: the verdict is out, end now.
process.exit(0)
