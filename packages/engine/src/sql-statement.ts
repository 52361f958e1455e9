/**
 * Just enough lexing of SQL text to find statement boundaries: string literals, quoted
 * identifiers and comments are skipped, nothing else is understood. What a query may do is
 * decided by SQLite (see sql-sandbox.ts); this only closes the one gap the driver leaves: it
 * prepares the first statement of a multi-statement text and silently drops the rest.
 */

/** True if `sql` holds more than one statement (anything but comments after the first `;`). */
export function hasTrailingStatements(sql: string): boolean {
  const end = firstStatementEnd(sql)
  return end < sql.length && !isBlank(sql.slice(end + 1))
}

function firstStatementEnd(sql: string): number {
  for (let i = 0; i < sql.length; i += 1) {
    const char = sql[i]
    if (char === ';') return i
    const skipped = skipToken(sql, i)
    if (skipped > i) i = skipped - 1
  }
  return sql.length
}

function isBlank(text: string): boolean {
  let i = skipBlank(text, 0)
  while (i < text.length && text[i] === ';') i = skipBlank(text, i + 1)
  return i >= text.length
}

/** Skips whitespace and comments from `i`. */
function skipBlank(sql: string, i: number): number {
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i]!)) i += 1
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i)
      i = end === -1 ? sql.length : end + 1
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2)
      i = end === -1 ? sql.length : end + 2
    } else {
      return i
    }
  }
}

/** If a literal, quoted identifier or comment starts at `i`, the index just past it. */
function skipToken(sql: string, i: number): number {
  const char = sql[i]
  const closer =
    char === "'" || char === '"' || char === '`' ? char : char === '[' ? ']' : undefined
  if (closer !== undefined) {
    let j = i + 1
    while (j < sql.length) {
      if (sql[j] === closer) {
        // A doubled quote inside a literal is an escaped quote, not the end.
        if (closer !== ']' && sql[j + 1] === closer) j += 2
        else return j + 1
      } else j += 1
    }
    return sql.length
  }
  if (sql.startsWith('--', i) || sql.startsWith('/*', i)) return skipBlank(sql, i)
  return i
}
