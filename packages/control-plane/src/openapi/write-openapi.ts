/**
 * Writes the API's OpenAPI document to `docs/openapi.json` (`pnpm openapi`); a test fails
 * while the committed file differs from what the routes' schemas generate.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { openApiDocument } from './openapi-document.js'

/** Where the document is kept in the repository. */
export const OPENAPI_FILE = fileURLToPath(new URL('../../../../docs/openapi.json', import.meta.url))

/** The document as committed: two-space JSON with a final newline. */
export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OPENAPI_FILE, openApiText())
  console.log(`wrote ${OPENAPI_FILE}`)
}
