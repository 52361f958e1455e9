/**
 * Describes a value and its type for validation messages: `` `0` (number) ``. Long values are
 * cut at 80 characters, so a message never echoes a whole request body.
 */
export function describeValue(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
  let shown: string
  try {
    shown = JSON.stringify(value) ?? String(value)
  } catch {
    shown = String(value)
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`
  return `\`${shown}\` (${type})`
}
