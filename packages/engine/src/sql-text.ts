/**
 * What the driver cannot be trusted with in an SQL text, found by a minimal lexer (string
 * literals, quoted identifiers and comments are skipped; nothing else is understood):
 *
 * - libsql 0.6 aborts the whole process (a Rust panic: `parameter_name(..).unwrap()`) when
 *   named arguments (an object) are bound to a statement with a nameless `?` parameter, so a
 *   typo in app code would kill the worker. `?NNN`, `:name`, `@name` and `$name` have names.
 * - it prepares the first statement of a multi-statement text and silently drops the rest.
 * - `VACUUM` has no authorizer action; SQLite refuses it inside a transaction, but as an
 *   ordinary error that a transaction function could catch and go on from.
 */
export interface SqlTextFacts {
  /** A plain `?` parameter (no number, no name) occurs in the first statement. */
  readonly hasNamelessParameter: boolean
  /** Something other than blanks and comments follows the first statement's `;`. */
  readonly hasTrailingStatements: boolean
  /** The first keyword, lowercased (`select`, `vacuum`, …), or ''. */
  readonly leadingKeyword: string
}

/** Lexes `sql` once for {@link SqlTextFacts}. */
export function sqlTextFacts(sql: string): SqlTextFacts {
  let hasNamelessParameter = false
  let leadingKeyword: string | undefined
  let i = 0
  while (i < sql.length) {
    const char = sql[i]!
    if (char === ';') break
    const skipped = skipLiteralOrComment(sql, i)
    if (skipped > i) {
      i = skipped
      continue
    }
    if (leadingKeyword === undefined && !/\s/.test(char))
      leadingKeyword = /^[A-Za-z_]+/.exec(sql.slice(i, i + 32))?.[0]?.toLowerCase() ?? ''
    if (char === '?' && !/[0-9]/.test(sql[i + 1] ?? '')) hasNamelessParameter = true
    i += 1
  }
  let rest = i + 1
  for (;;) {
    while (rest < sql.length && (/\s/.test(sql[rest]!) || sql[rest] === ';')) rest += 1
    const skipped = sql.startsWith('--', rest) || sql.startsWith('/*', rest)
    if (!skipped) break
    rest = skipLiteralOrComment(sql, rest)
  }
  return {
    hasNamelessParameter,
    hasTrailingStatements: rest < sql.length,
    leadingKeyword: leadingKeyword ?? '',
  }
}

/** If a literal, quoted identifier or comment starts at `i`, the index just past it. */
function skipLiteralOrComment(sql: string, i: number): number {
  if (sql.startsWith('--', i)) {
    const end = sql.indexOf('\n', i)
    return end === -1 ? sql.length : end + 1
  }
  if (sql.startsWith('/*', i)) {
    const end = sql.indexOf('*/', i + 2)
    return end === -1 ? sql.length : end + 2
  }
  const char = sql[i]
  const closer =
    char === "'" || char === '"' || char === '`' ? char : char === '[' ? ']' : undefined
  if (closer === undefined) return i
  let j = i + 1
  while (j < sql.length) {
    if (sql[j] !== closer) j += 1
    // A doubled quote inside a literal is an escaped quote, not the end.
    else if (closer !== ']' && sql[j + 1] === closer) j += 2
    else return j + 1
  }
  return sql.length
}
