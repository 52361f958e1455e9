import type { Database, Statement } from './connection.js'
import { invalidInput } from './engine-error.js'
import type { RunTags } from './run.js'

/** Most tags one run may carry. */
export const MAX_TAGS = 16
/** Longest tag key. */
export const MAX_TAG_KEY_LENGTH = 64
/** Longest tag value. */
export const MAX_TAG_VALUE_LENGTH = 256
/**
 * What a tag key may look like: it travels as the query parameter `tag.<key>` and in URLs, so
 * letters, digits and `_ . : -` only.
 */
export const TAG_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/

/** What the limits are, for error messages. */
const TAGS_EXPECTED = `an object of at most ${MAX_TAGS} tags, keys of 1 to ${MAX_TAG_KEY_LENGTH} characters from [A-Za-z0-9_.:-], values strings of 0 to ${MAX_TAG_VALUE_LENGTH} characters`

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Checks one tag key or value; `what` names it in the error.
 *
 * @throws {EngineError} `INVALID_INPUT` quoting the value.
 */
export function validateTag(key: unknown, value: unknown, what: string): void {
  if (typeof key !== 'string' || !TAG_KEY_PATTERN.test(key)) {
    throw invalidInput(
      `${what} key`,
      key,
      `1 to ${MAX_TAG_KEY_LENGTH} characters from [A-Za-z0-9_.:-]`,
    )
  }
  if (typeof value !== 'string' || value.length > MAX_TAG_VALUE_LENGTH) {
    throw invalidInput(
      `${what}.${key}`,
      value,
      `a string of 0 to ${MAX_TAG_VALUE_LENGTH} characters`,
    )
  }
}

/**
 * Validates a run's tags and returns them as JSON text with sorted keys (`null` for none).
 *
 * @throws {EngineError} `INVALID_INPUT` for anything but an object of string tags within the
 *   limits above.
 */
export function tagsText(tags: unknown, what = 'tags'): string | null {
  if (tags === undefined || tags === null) return null
  if (!isPlainObject(tags)) throw invalidInput(what, tags, TAGS_EXPECTED)
  const keys = Object.keys(tags).sort()
  if (keys.length > MAX_TAGS) throw invalidInput(what, tags, TAGS_EXPECTED)
  if (keys.length === 0) return null
  const sorted: Record<string, string> = {}
  for (const key of keys) {
    validateTag(key, tags[key], what)
    sorted[key] = tags[key] as string
  }
  return JSON.stringify(sorted)
}

/**
 * Validates a tag filter (`list({ tags })`): the same rules as a run's tags.
 *
 * @throws {EngineError} `INVALID_INPUT`.
 */
export function tagFilter(tags: unknown): [string, string][] {
  const text = tagsText(tags, 'tags')
  return text === null ? [] : Object.entries(JSON.parse(text) as RunTags)
}

/** The tag index `lc_run_tags`, over the write connection. */
export class RunTagStore {
  readonly #insert: Statement

  constructor(db: Database) {
    // One statement per run: the tags arrive as the run's JSON text.
    this.#insert = db.prepare(
      'INSERT OR IGNORE INTO lc_run_tags (key, value, run_id) SELECT key, value, ? FROM json_each(?)',
    )
  }

  /** Indexes the tags (JSON text from {@link tagsText}) of the run with `lc_runs.id` `id`. */
  insert(id: number, tags: string): void {
    this.#insert.run(id, tags)
  }
}
