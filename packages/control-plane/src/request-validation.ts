import { describeValue } from '@litecell/protocol'
import { ControlPlaneError } from './control-plane-error.js'

/** A boolean query parameter: `true`/`1` or `false`/`0` (absent: false). */
export function parseFlag(value: string | undefined, field: string): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false
  if (value === 'true' || value === '1') return true
  throw new ControlPlaneError('BAD_REQUEST', `Expected \`${field}\` to be true or false, got ${describeValue(value)}`)
}
