#!/usr/bin/env node
// The `litecell` command: runs the bundled CLI (dist/litecell.mjs), which the build script
// (scripts/build.mjs) makes at install and remakes here, before running it, whenever a source it
// was built from changed. Under `pnpm litecell …` / `pnpm start` pnpm moves to the repository
// root; the command goes back to the directory the user typed it in (INIT_CWD), so relative
// paths (`--inputs runs.jsonl`, `snapshot -o`, the data folder) mean what the user meant.
import { build, isStale } from '../../../scripts/build.mjs'

if (
  process.env.npm_package_name === 'litecell' &&
  process.env.INIT_CWD &&
  (process.env.npm_lifecycle_event === 'litecell' || process.env.npm_lifecycle_event === 'start')
) {
  process.chdir(process.env.INIT_CWD)
}
if (isStale('cli')) await build('cli')
await import('../dist/litecell.mjs')
