import { existsSync } from 'node:fs'
import { controlPlaneReplica, restore, type StorageConfig } from '@litecell/replica'
import type { Logger } from 'pino'
import { ControlPlaneError } from './control-plane-error.js'
import { Registry } from './registry.js'

/** How to open the registry. */
export interface RegistryOpening {
  readonly storage: StorageConfig
  /** The registry's file; restored from its replica if it is missing. */
  readonly path: string
  /**
   * Start with an empty registry even if storage holds one (`litecell serve --new-registry`):
   * every tenant is forgotten. Without it, a replica that cannot be restored stops the start.
   */
  readonly newRegistry: boolean
  readonly log: Logger
}

/**
 * Opens the control plane's registry. A missing file is restored from the registry's replica;
 * a replica that holds objects but cannot be restored, or a restore that fails, stops the
 * start with `REGISTRY_UNRESTORABLE` (issue 9, item 12): an empty registry replicated over it
 * would forget every tenant, their tokens and their data's whereabouts. `newRegistry` is the
 * deliberate way to start empty.
 */
export async function openRegistry(options: RegistryOpening): Promise<Registry> {
  const { storage, path, log } = options
  if (existsSync(path)) {
    if (options.newRegistry) log.warn({ path }, '--new-registry ignored: a local registry exists')
    return Registry.open(path)
  }
  if (options.newRegistry) {
    log.warn(
      'starting with a new, empty registry (--new-registry): stored tenants are not restored',
    )
    return Registry.open(path)
  }
  const replica = controlPlaneReplica(storage)
  let restored: boolean
  try {
    ;({ restored } = await restore(replica, path))
  } catch (err) {
    throw new ControlPlaneError(
      'REGISTRY_UNRESTORABLE',
      `restore the registry from s3://${storage.bucket}/${replica.path}: ${(err as Error).message}. ` +
        'Nothing was started. To start with an empty registry on purpose (every stored tenant ' +
        'forgotten), run `litecell serve --new-registry`',
      { cause: err },
    )
  }
  log.info(restored ? 'registry restored from S3' : 'no registry in S3: starting a new one')
  return Registry.open(path)
}
