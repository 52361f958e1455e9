import { readFile } from 'node:fs/promises'
import type { JsonValue } from '@litecell/client'
import { CliError, usageError } from './cli-error.js'

export type { JsonValue } from '@litecell/client'

/**
 * Parses a JSON command-line argument, e.g. a run's input `'{"n": 1}'`; a parse failure is a
 * usage error (exit 2) that quotes the value.
 *
 * @example parseJsonArgument('{"n": 1}', 'input') // → { n: 1 }
 */
export function parseJsonArgument(text: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue
  } catch (err) {
    throw usageError(
      `Expected ${what} to be JSON, got \`${text.length > 60 ? `${text.slice(0, 59)}…` : text}\`: ${(err as Error).message} (quote it for the shell: '{"n": 1}')`,
    )
  }
}

/** Reads and parses a JSON file (`-` reads stdin). */
export async function readJsonFile(path: string, what: string): Promise<JsonValue> {
  let text: string
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8')
  } catch (err) {
    throw new CliError('FILE_FAILED', `read ${what} file ${path}: ${(err as Error).message}`, {
      cause: err,
    })
  }
  try {
    return JSON.parse(text) as JsonValue
  } catch (err) {
    throw new CliError(
      'FILE_FAILED',
      `read ${what} file ${path}: invalid JSON: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
}

/**
 * The JSON argument or `--…-file` option of a command, whichever was given (both is a usage
 * error); `null` when neither was.
 */
export async function jsonFromArgumentOrFile(
  argument: string | undefined,
  file: string | undefined,
  what: string,
): Promise<JsonValue> {
  if (argument !== undefined && file !== undefined) {
    throw usageError(`give the ${what} as an argument or as a file, not both`)
  }
  if (file !== undefined) return readJsonFile(file, what)
  if (argument !== undefined) return parseJsonArgument(argument, what)
  return null
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
