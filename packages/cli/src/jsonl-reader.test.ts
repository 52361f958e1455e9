import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { countJsonLines, isRereadable, readJsonLines } from './jsonl-reader.js'

const tempDirs: string[] = []
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'litecell-cli-unit-'))
  tempDirs.push(dir)
  return dir
}

function jsonlFile(text: string): string {
  const path = join(tempDir(), 'inputs.jsonl')
  writeFileSync(path, text)
  return path
}

test('lines are read in order with their line numbers; blank lines are skipped but counted', async () => {
  const path = jsonlFile('{"n":1}\r\n\n  \n[2]\n"three"')
  const lines = []
  for await (const line of readJsonLines(path)) lines.push(line)
  expect(lines.map(({ lineNumber, value }) => ({ lineNumber, value }))).toEqual([
    { lineNumber: 1, value: { n: 1 } },
    { lineNumber: 4, value: [2] },
    { lineNumber: 5, value: 'three' },
  ])
  expect(await countJsonLines(path)).toBe(3)
})

test('a line that is not JSON fails with INVALID_JSONL naming the file and line', async () => {
  const path = jsonlFile('{"n":1}\n{"n":\n')
  await expect(countJsonLines(path)).rejects.toMatchObject({
    code: 'INVALID_JSONL',
    exitCode: 1,
    message: expect.stringMatching(
      new RegExp(`^${path.replace(/[.\\]/g, '\\$&')}:2: invalid JSON: `),
    ),
  })
})

test('a missing file fails with FILE_FAILED; only regular files count as rereadable', async () => {
  await expect(isRereadable('/no/such/file.jsonl')).rejects.toMatchObject({ code: 'FILE_FAILED' })
  expect(await isRereadable(jsonlFile('1\n'))).toBe(true)
  expect(await isRereadable('-')).toBe(false)
})
