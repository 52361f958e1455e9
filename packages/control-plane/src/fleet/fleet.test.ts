import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterEach, beforeEach, expect, test } from 'vitest'
import type { Launcher } from '../launcher.js'
import { Registry } from '../registry.js'
import { Fleet } from './fleet.js'

/**
 * The fleet over a real registry and a launcher of remote workers (pods) that must never be
 * asked to launch: S3 never confirms a lease epoch here (the registry's confirmation is the
 * injected fault), so no pod may start. It catches a fleet that, while storage is down, makes
 * every request wait for S3 again instead of backing the tenant off like a worker's storage exit.
 */
let dir: string
let registry: Registry

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-'))
  registry = Registry.open(join(dir, 'registry.db'))
  registry.createTenant({
    id: 'acme',
    app: 'default',
    labels: {},
    tokenHash: 'h',
    state: 'hibernated',
    nowMs: 0,
  })
})

afterEach(() => {
  registry.close()
  rmSync(dir, { recursive: true, force: true })
})

test('a pod lease that storage does not confirm backs the tenant off: the next wake is refused at once', async () => {
  let confirmations = 0
  const launcher: Launcher = {
    remoteWorkers: true,
    launch: () => {
      throw new Error('no pod may start without a confirmed epoch')
    },
    hasLocalState: () => false,
    removeLocalState: async () => {},
  }
  const fleet = new Fleet({
    registry,
    launcher,
    log: pino({ level: 'silent' }),
    dataDir: dir,
    maxWorkers: 2,
    leaseTtlMs: 10_000,
    stopDeadlineMs: 10_000,
    workerSettings: () => {
      throw new Error('not reached')
    },
    confirmRegistry: async () => {
      confirmations += 1
      throw new Error('S3 unreachable')
    },
  })
  for (let attempt = 0; attempt < 2; attempt += 1) {
    await expect(fleet.ensureActive('acme')).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' })
  }
  expect(confirmations).toBe(1)
  expect(registry.require('acme')).toMatchObject({ state: 'hibernated', leaseExpiresAt: null })
  await fleet.close()
})
