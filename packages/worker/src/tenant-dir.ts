import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { open, readdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/**
 * The tenant's folder on the worker's disk, and its removal. Removing a folder takes many
 * steps (`rm -r` unlinks file after file), and a crash or a power loss in the middle can leave
 * `tenant.db` without its `-wal`: the next wake would trust that stale file and replicate it
 * as the newest state, a silent rollback (issue 9, item 9). So the folder is first renamed to
 * a tombstone beside it, one atomic step made durable by an fsync of the parent, and only
 * then deleted. A tombstone is never read as a tenant's state: nothing looks inside, and the
 * next worker of the tenant sweeps it away.
 */

/** A tombstone of the folder `dir`: a dot name no tenant id can take (ids are slugs). */
export function isTombstoneOf(dir: string, name: string): boolean {
  return name.startsWith(`.${basename(dir)}.tombstone-`)
}

/** Renames `dir` to a fresh tombstone beside it (durably), then deletes the tombstone. */
export async function removeTenantDir(dir: string): Promise<void> {
  if (!existsSync(dir)) return
  const tombstone = join(
    dirname(dir),
    `.${basename(dir)}.tombstone-${randomBytes(6).toString('hex')}`,
  )
  await rename(dir, tombstone)
  await syncDirectory(dirname(dir))
  await rm(tombstone, { recursive: true, force: true })
}

/** Deletes the tombstones a crash left beside `dir` (the folder itself is left alone). */
export async function sweepTombstones(dir: string): Promise<number> {
  let names: string[]
  try {
    names = await readdir(dirname(dir))
  } catch {
    return 0
  }
  const tombstones = names.filter((name) => isTombstoneOf(dir, name))
  await Promise.all(
    tombstones.map((name) => rm(join(dirname(dir), name), { recursive: true, force: true })),
  )
  return tombstones.length
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
