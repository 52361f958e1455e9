import { rmSync } from 'node:fs'
import { join } from 'node:path'
import {
  controlPlaneReplica,
  replicate,
  withReplicaStore,
  type StorageConfig,
} from '@litecell/replica'
import { FAST_REPLICATION, TestFixture } from '@litecell/testkit/replica'
import pino from 'pino'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { openRegistry } from './registry-restore.js'

const log = pino({ level: 'silent' })
let fx: TestFixture

beforeAll(async () => {
  fx = await TestFixture.create('registry-restore')
})
afterAll(async () => {
  await fx.dispose()
})

/** A registry with one tenant, replicated to `storage` with a verified stop, then its file removed. */
async function storedRegistry(storage: StorageConfig, name: string): Promise<void> {
  const path = fx.path(`${name}.db`)
  const registry = await openRegistry({ storage, path, newRegistry: false, log })
  registry.createTenant({
    id: 'acme',
    app: 'default',
    labels: {},
    tokenHash: `h-${name}`,
    state: 'hibernated',
    nowMs: 1,
  })
  registry.close()
  await (await replicate(path, controlPlaneReplica(storage), FAST_REPLICATION)).stopVerified()
  rmSync(path)
}

test('a missing registry file comes back from its replica', async () => {
  const storage = fx.s3.storage('intact')
  await storedRegistry(storage, 'intact')
  const registry = await openRegistry({
    storage,
    path: fx.path('intact-again.db'),
    newRegistry: false,
    log,
  })
  expect(registry.get('acme')?.tokenHash).toBe('h-intact')
  registry.close()
})

test('a registry replica that cannot be restored stops the start; --new-registry starts empty on purpose', async () => {
  // Catches: a replica whose generations cannot be restored read as "no registry yet": the
  // control plane would start empty and replicate the empty registry over the old one.
  const storage = fx.s3.storage('broken')
  await storedRegistry(storage, 'broken')
  await withReplicaStore(storage, async (store) => {
    const keys = (await store.list(`${controlPlaneReplica(storage).path}/`)).map((o) => o.key)
    await store.delete(keys.filter((key) => key.includes('/snapshots/')))
  })
  const path = fx.path('broken-again.db')
  const err = await openRegistry({ storage, path, newRegistry: false, log }).catch(
    (e: unknown) => e,
  )
  expect((err as { code?: string }).code).toBe('REGISTRY_UNRESTORABLE')
  expect((err as Error).message).toMatch(/--new-registry/)

  const fresh = await openRegistry({
    storage,
    path: join(fx.dir, 'fresh.db'),
    newRegistry: true,
    log,
  })
  expect(fresh.list()).toEqual([])
  fresh.close()
})

test('empty storage starts a new registry', async () => {
  const registry = await openRegistry({
    storage: fx.s3.storage('empty'),
    path: fx.path('empty.db'),
    newRegistry: false,
    log,
  })
  expect(registry.list()).toEqual([])
  registry.close()
})
