import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dirs: string[] = []

/** A fresh temp directory `litecell-<name>-…`, removed by {@link removeTempDirs}. */
export function tempDir(name = 'test'): string {
  const dir = mkdtempSync(join(tmpdir(), `litecell-${name}-`))
  dirs.push(dir)
  return dir
}

/** Removes every directory {@link tempDir} made so far. */
export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}
