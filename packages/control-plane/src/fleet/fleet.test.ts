import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterEach, beforeEach, expect, test, vi } from 'vitest'
import { hashSecret } from '@litecell/protocol'
import type { AdoptedWorker, Launcher, WorkerExit } from '../launcher.js'
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
  const fleet = fleetOver(launcher, 10_000, {
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

test('after a restart, a wake waits for the surviving worker and gets it by adoption: no second worker is launched', async () => {
  // Catches: a restarted control plane that refuses its surviving worker (LEASE_LOST, so it
  // fences) and launches another once the lease ran out, or that launches one beside it.
  const secret = 'lcw_survivor'
  const epoch = registry.beginLease('acme', 10_000, Date.now(), hashSecret(secret))
  registry.recoverAfterRestart(Date.now())
  let launches = 0
  let end!: () => void
  const exited = new Promise<WorkerExit>(
    (resolve) => (end = () => resolve({ code: null, signal: null })),
  )
  const adopted: AdoptedWorker[] = []
  const launcher: Launcher = {
    launch: () => {
      launches += 1
      throw new Error('no second worker may start')
    },
    adopt: (worker) => (adopted.push(worker), { pid: worker.pid, exited, kill: () => end() }),
    hasLocalState: () => true,
    removeLocalState: async () => {},
  }
  const fleet = fleetOver(launcher, 10_000)
  const wake = fleet.ensureActive('acme')
  const incarnation = registry.require('acme').incarnation!
  const report = {
    activeRuns: 1,
    nextWakeAt: null,
    url: 'http://127.0.0.1:1',
    pid: 4242,
    incarnation,
  }
  expect(() =>
    fleet.leases.heartbeat({ tenantId: 'acme', epoch }, secret, { ...report, incarnation: 'x' }),
  ).toThrow(expect.objectContaining({ code: 'LEASE_LOST' }))
  expect(() => fleet.leases.heartbeat({ tenantId: 'acme', epoch }, 'lcw_wrong', report)).toThrow(
    expect.objectContaining({ code: 'LEASE_LOST' }),
  )
  expect(() =>
    fleet.leases.heartbeat({ tenantId: 'acme', epoch: epoch + 1 }, secret, report),
  ).toThrow(expect.objectContaining({ code: 'LEASE_LOST' }))
  const answer = fleet.leases.heartbeat({ tenantId: 'acme', epoch }, secret, report)
  expect(answer.leaseExpiresAt).toBeGreaterThan(Date.now())
  await wake
  expect(adopted).toMatchObject([{ tenantId: 'acme', epoch, pid: 4242, leaseTtlMs: 10_000 }])
  expect(launches).toBe(0)
  expect(fleet.workerView('acme')).toMatchObject({ pid: 4242, epoch, url: 'http://127.0.0.1:1' })
  expect(registry.require('acme')).toMatchObject({ state: 'active', epoch })
  // Its end is seen without an exit event: the slot is freed, the tenant recovered at once.
  end()
  await vi.waitFor(() => expect(fleet.size).toBe(0))
  expect(registry.require('acme')).toMatchObject({ state: 'hibernated', leaseExpiresAt: null })
  await fleet.close()
})

test('a delete after a restart waits out the lease of a worker not yet adopted before removing its files', async () => {
  // Catches: a delete racing a surviving worker's adoption window, which removed the tenant's
  // files (and then its replica) while that worker and its Litestream still wrote them.
  registry.beginLease('acme', 600, Date.now(), hashSecret('lcw_survivor'))
  registry.recoverAfterRestart(Date.now())
  const leaseEndsAt = registry.require('acme').leaseExpiresAt!
  let removedAt = 0
  const launcher: Launcher = {
    launch: () => {
      throw new Error('a delete launches nothing')
    },
    hasLocalState: () => true,
    removeLocalState: async () => {
      removedAt = Date.now()
    },
  }
  const fleet = fleetOver(launcher, 600)
  registry.markDeleting('acme')
  await fleet.discard('acme')
  expect(removedAt).toBeGreaterThanOrEqual(leaseEndsAt)
  await fleet.close()
})

/** A fleet over the test's registry and `launcher` that must never build worker settings. */
function fleetOver(
  launcher: Launcher,
  leaseTtlMs: number,
  options: Partial<ConstructorParameters<typeof Fleet>[0]> = {},
): Fleet {
  return new Fleet({
    registry,
    launcher,
    log: pino({ level: 'silent' }),
    dataDir: dir,
    maxWorkers: 2,
    leaseTtlMs,
    stopDeadlineMs: 10_000,
    workerSettings: () => {
      throw new Error('not reached')
    },
    ...options,
  })
}
