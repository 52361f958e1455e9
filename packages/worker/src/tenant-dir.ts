import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises'
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
  const tombstone = await entomb(dir)
  await rm(tombstone, { recursive: true, force: true })
}

/**
 * Removes `dir` as {@link removeTenantDir} does, except what `keep` moves out of it (a
 * hibernation's kept copy, issue 12). The whole folder becomes a tombstone first, so the live
 * files go in one durable step; then a fresh folder is claimed for `incarnation` (marked before
 * anything is put in it) and `keep` may move files from the tombstone into it. If `keep` keeps
 * nothing (or throws) the fresh folder goes too: no folder is left but one holding a kept copy
 * under this incarnation's mark. The tombstone is deleted last; a crash before that leaves it
 * to be swept, never read. Resolves true if something was kept.
 */
export async function retireTenantDir(
  dir: string,
  incarnation: string | undefined,
  keep: (retiredDir: string) => Promise<boolean>,
): Promise<boolean> {
  if (!existsSync(dir)) return false
  const tombstone = await entomb(dir)
  let kept = false
  try {
    await claimTenantDir(dir, incarnation)
    kept = await keep(tombstone)
  } finally {
    if (!kept) await removeTenantDir(dir)
    await rm(tombstone, { recursive: true, force: true })
  }
  return kept
}

/** Renames `dir` to a fresh tombstone beside it, durably; resolves with the tombstone's path. */
async function entomb(dir: string): Promise<string> {
  const tombstone = join(
    dirname(dir),
    `.${basename(dir)}.tombstone-${randomBytes(6).toString('hex')}`,
  )
  await rename(dir, tombstone)
  await syncDirectory(dirname(dir))
  return tombstone
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

/** The file in a tenant's folder naming the incarnation the folder belongs to. */
export const INCARNATION_FILE = 'incarnation'

/**
 * Makes `dir` this incarnation's folder (issue 9, item 6). A folder already there that is
 * marked with another incarnation, or not marked at all, belongs to an older life of the
 * tenant id (a deleted tenant whose files a crash left): it is refused, removed through a
 * tombstone, never served or replicated as the new tenant's state. The mark is written (and
 * made durable) before any database file exists in the folder. With no incarnation (a tenant
 * created before incarnations) the folder is taken as it is. Resolves true if a folder was
 * refused.
 */
export async function claimTenantDir(
  dir: string,
  incarnation: string | undefined,
): Promise<boolean> {
  if (incarnation === undefined) {
    await mkdir(dir, { recursive: true })
    return false
  }
  const markPath = join(dir, INCARNATION_FILE)
  const mark = existsSync(dir) ? await readFile(markPath, 'utf8').catch(() => null) : undefined
  if (mark === incarnation) return false
  if (mark !== undefined) await removeTenantDir(dir)
  await mkdir(dir, { recursive: true })
  await writeFile(markPath, incarnation, { flush: true })
  await syncDirectory(dir)
  return mark !== undefined
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
