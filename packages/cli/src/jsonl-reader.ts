import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { CliError } from './cli-error.js'
import type { JsonValue } from '@litecell/client'

/** One parsed line of a JSONL file. */
export interface JsonLine {
  /** 1-based line number in the file, blank lines counted. */
  readonly lineNumber: number
  readonly value: JsonValue
  /** UTF-8 size of the line's text, for keeping request bodies small. */
  readonly bytes: number
}

/**
 * Streams a JSONL file line by line (`-` reads stdin), so a file of any size is read in
 * constant memory. Blank lines are skipped; a line that is not JSON throws `INVALID_JSONL`
 * naming the file and line number.
 */
export async function* readJsonLines(path: string): AsyncGenerator<JsonLine> {
  const input = path === '-' ? process.stdin : createReadStream(path)
  const lines = createInterface({ input, crlfDelay: Infinity })
  let lineNumber = 0
  try {
    for await (const text of lines) {
      lineNumber += 1
      if (text.trim() === '') continue
      let value: JsonValue
      try {
        value = JSON.parse(text) as JsonValue
      } catch (err) {
        throw new CliError(
          'INVALID_JSONL',
          `${path}:${lineNumber}: invalid JSON: ${(err as Error).message}`,
          { cause: err },
        )
      }
      yield { lineNumber, value, bytes: Buffer.byteLength(text) }
    }
  } catch (err) {
    if (err instanceof CliError) throw err
    throw new CliError('FILE_FAILED', `read ${path}: ${(err as Error).message}`, { cause: err })
  } finally {
    lines.close()
    if (input !== process.stdin) input.destroy()
  }
}

/**
 * Reads a JSONL file once to check every line and count the runs in it, so a batch can
 * refuse a bad file before submitting anything and its progress bar knows the total.
 */
export async function countJsonLines(path: string): Promise<number> {
  let count = 0
  for await (const _ of readJsonLines(path)) count += 1
  return count
}

/**
 * Whether `path` can be read twice: a regular file, not stdin (`-`), a pipe or a
 * `<(process substitution)`, which yield their lines only once.
 */
export async function isRereadable(path: string): Promise<boolean> {
  if (path === '-') return false
  try {
    return (await stat(path)).isFile()
  } catch (err) {
    throw new CliError('FILE_FAILED', `read ${path}: ${(err as Error).message}`, { cause: err })
  }
}
