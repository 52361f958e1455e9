/**
 * Expected conditions are not errors in the log (issue 9, item 14). A client polling a failed
 * tenant wrote 630 MB of log in 7 minutes: every 503 was an `error` line with a stack. Here a
 * thousand polls of a failed tenant, and a thousand of a tenant that does not exist, each
 * leave one `warn` line without a stack.
 *
 * Catches: logging every error answer (no folding of identical lines), and logging expected
 * answers (503 TENANT_FAILED, 404) as errors with their stack.
 */
import { expect, test } from 'vitest'
import { createTenant } from '@litecell/testkit/e2e'
import { useInProcessServer } from '@litecell/testkit/in-process'

const server = useInProcessServer()
const POLLS = 1_000

/** The control plane's log lines written while `during` runs, parsed. */
async function linesDuring(during: () => Promise<void>): Promise<{ lines: any[]; bytes: number }> {
  const before = server.current.logLines.length
  await during()
  const written = server.current.logLines.slice(before)
  return {
    lines: written.map((line) => JSON.parse(line)),
    bytes: written.reduce((sum, line) => sum + line.length, 0),
  }
}

test('polling a failed tenant a thousand times writes one warn line without a stack', async () => {
  await createTenant(server.admin, 'broken')
  server.current.registry.setState('broken', 'failed', { failureReason: 'crash loop (test)' })
  const { lines, bytes } = await linesDuring(async () => {
    for (let i = 0; i < POLLS; i += 1) {
      const response = await server.fetch('/v1/tenants/broken/runs', {
        headers: { authorization: `Bearer ${server.adminToken}` },
      })
      expect(response.status).toBe(503)
    }
  })
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatchObject({ level: 40, code: 'TENANT_FAILED', status: 503 })
  expect(JSON.stringify(lines[0])).not.toMatch(/stack/)
  expect(bytes).toBeLessThan(1_000)
})

test('polling a tenant that does not exist a thousand times writes one warn line', async () => {
  const { lines } = await linesDuring(async () => {
    for (let i = 0; i < POLLS; i += 1) {
      const response = await server.fetch(`/v1/tenants/nobody/runs/run-${i}`, {
        headers: { authorization: `Bearer ${server.adminToken}` },
      })
      expect(response.status).toBe(404)
    }
  })
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatchObject({ level: 40, code: 'TENANT_NOT_FOUND', status: 404 })
})
