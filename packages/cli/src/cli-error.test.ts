import { LitecellError } from '@litecell/client'
import { expect, test } from 'vitest'
import { EXIT_CODES, cliErrorOf } from './cli-error.js'

test('API errors become the exit code scripts rely on, with a hint where one helps', () => {
  const cases = [
    [
      new LitecellError('TENANT_NOT_FOUND', 404, 'no tenant acme'),
      EXIT_CODES.NOT_FOUND,
      '404 TENANT_NOT_FOUND: no tenant acme',
    ],
    [
      new LitecellError('UNAUTHENTICATED', 401, 'no token'),
      EXIT_CODES.AUTH,
      '401 UNAUTHENTICATED: no token (set LITECELL_TOKEN or pass --token)',
    ],
    [
      new LitecellError('FORBIDDEN', 403, 'admin only'),
      EXIT_CODES.AUTH,
      '403 FORBIDDEN: admin only',
    ],
    [
      new LitecellError('HTTP_502', 502, 'Bad Gateway'),
      EXIT_CODES.ERROR,
      '502 HTTP_502: Bad Gateway',
    ],
  ] as const
  for (const [error, exitCode, message] of cases) {
    expect(cliErrorOf(error)).toMatchObject({ code: error.code, exitCode, message })
  }
})

test('an unreachable server says how to start one', () => {
  const error = new LitecellError('CONNECTION_FAILED', 0, 'x', {
    message: 'cannot reach http://127.0.0.1:1 (connection refused)',
  })
  expect(cliErrorOf(error)).toMatchObject({
    exitCode: EXIT_CODES.ERROR,
    message:
      'cannot reach http://127.0.0.1:1 (connection refused); is the server running? start it with `pnpm start`, or set LITECELL_URL',
  })
})

test('other errors are not converted', () => {
  expect(cliErrorOf(new Error('boom'))).toBeUndefined()
})
