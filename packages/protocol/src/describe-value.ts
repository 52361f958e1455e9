/**
 * Describes a value and its type for validation messages: `` `0` (number) ``, `` `shopp` (string) ``.
 * A string is shown as its text, not as JSON, so it is quoted once (the backticks), and the type
 * says it is a string. Long values are cut at 80 characters, so a message never echoes a whole
 * request body.
 */
export function describeValue(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
  let shown: string
  try {
    shown = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  } catch {
    shown = String(value)
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`
  // An empty string as its text would be two bare backticks.
  if (value === '') return 'an empty string'
  return `\`${shown}\` (${type})`
}
