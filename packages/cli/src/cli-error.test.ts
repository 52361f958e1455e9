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
      'cannot reach http://127.0.0.1:1 (connection refused); is the server running? start it with `litecell serve` (`pnpm start` in the repository), or set LITECELL_URL',
  })
})

test('other errors are not converted', () => {
  expect(cliErrorOf(new Error('boom'))).toBeUndefined()
})

test('a 401 without a token names the admin token file it looked for (issue 15 item 7)', () => {
  const error = new LitecellError('UNAUTHENTICATED', 401, 'missing or invalid bearer token')
  const none = cliErrorOf(error, {
    tokenSource: undefined,
    tokenFile: '/tmp/x/.litecell/admin-token',
  })
  expect(none?.message).toBe(
    '401 UNAUTHENTICATED: missing or invalid bearer token (no token: none given with --token or LITECELL_TOKEN, and no admin token file at /tmp/x/.litecell/admin-token; run the command in the folder `litecell serve` runs in, or set LITECELL_DATA_DIR, LITECELL_TOKEN or --token)',
  )
  const fromFile = cliErrorOf(error, { tokenSource: '/d/admin-token', tokenFile: '/d/admin-token' })
  expect(fromFile?.message).toContain('(the token came from the file /d/admin-token;')
  const fromEnv = cliErrorOf(error, { tokenSource: 'LITECELL_TOKEN', tokenFile: undefined })
  expect(fromEnv?.message).toContain('(the token came from LITECELL_TOKEN;')
})
