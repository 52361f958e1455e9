import { createServer } from 'node:net'

/**
 * A loopback TCP port free at the time of asking, for a server a test must restart on the
 * same address (a control plane its workers call back).
 */
export async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  return port
}
