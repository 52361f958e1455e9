import { existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { TenantReplicas } from '@litecell/control-plane'
import type { RestorePoints } from '@litecell/replica'

/**
 * The in-process stand-in for the tenants' replicas: one folder per tenant under `root`
 * holding the database file (and its WAL) as of the tenant's last hibernation or sync point.
 * No Litestream, no S3: a restore copies the folder's files; a fork restores the source's
 * latest state whatever its `at` (in-process tests do not model point-in-time).
 */
export class InProcessReplicas implements TenantReplicas {
  readonly #root: string

  constructor(root: string) {
    this.#root = root
  }

  #dir(tenantId: string): string {
    return join(this.#root, tenantId)
  }

  async restorePoints(tenantId: string): Promise<RestorePoints> {
    const saved = await stat(this.#dir(tenantId)).catch(() => null)
    const at = saved ? saved.mtime.toISOString() : null
    return { generations: [], earliestAt: at, latestAt: at }
  }

  async delete(tenantId: string): Promise<void> {
    await rm(this.#dir(tenantId), { recursive: true, force: true })
  }

  /**
   * Replaces the tenant's replica with what `write` puts in a fresh folder (the database file
   * of a closed engine and its WAL, or a `VACUUM INTO` snapshot); returns the time it holds.
   */
  async save(tenantId: string, write: (dir: string) => Promise<void>): Promise<string> {
    const fresh = `${this.#dir(tenantId)}.saving-${process.hrtime.bigint()}`
    await mkdir(fresh, { recursive: true })
    await write(fresh)
    await rm(this.#dir(tenantId), { recursive: true, force: true })
    await rename(fresh, this.#dir(tenantId))
    return (await this.restorePoints(tenantId)).latestAt!
  }

  /** Copies the tenant's replica into `dir`; false if it has none. */
  async restore(tenantId: string, dir: string): Promise<boolean> {
    const source = this.#dir(tenantId)
    if (!existsSync(source)) return false
    await mkdir(dir, { recursive: true })
    for (const name of await readdir(source)) await copyFile(join(source, name), join(dir, name))
    return true
  }
}
