import { closeSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { ReplicaPosition } from './replica-position.js'
import { WAL_HEADER_BYTES, type WalCommit } from './wal-commit.js'

/** Litestream's shadow WAL file names: `<index as 8 hex digits>.wal` (litestream.go). */
const SHADOW_WAL_NAME = /^([0-9a-f]{8})\.wal$/
const GENERATION_NAME = /^[0-9a-f]{16}$/

/** What Litestream's shadow WAL directory holds for its current generation. */
export interface ShadowState {
  /** The current generation (the `generation` file). */
  readonly generation: string
  /** Shadow WAL indexes present, ascending, each with the salts of its header. */
  readonly indexes: readonly { readonly index: number; readonly salt: string }[]
}

/**
 * Reads the shadow WAL that Litestream 0.3 keeps beside the database
 * (`.<db>-litestream/generation`, `.<db>-litestream/generations/<gen>/wal/<index>.wal`).
 * A shadow header never changes once written, so headers are read once and cached.
 */
export class ShadowWal {
  readonly #metaDir: string
  readonly #salts = new Map<string, string>()

  constructor(dbPath: string) {
    this.#metaDir = join(dirname(dbPath), `.${basename(dbPath)}-litestream`)
  }

  /** The current generation and its shadow WAL indexes; null before Litestream made one. */
  read(): ShadowState | null {
    let generation: string
    try {
      generation = readFileSync(join(this.#metaDir, 'generation'), 'utf8').trim()
    } catch {
      return null
    }
    if (!GENERATION_NAME.test(generation)) return null
    const dir = join(this.#metaDir, 'generations', generation, 'wal')
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      return { generation, indexes: [] }
    }
    const indexes: { index: number; salt: string }[] = []
    for (const name of names) {
      const match = SHADOW_WAL_NAME.exec(name)
      if (!match) continue
      const key = `${generation}/${name}`
      let salt = this.#salts.get(key)
      if (salt === undefined) {
        const header = readHeader(join(dir, name))
        if (!header) continue // being created: Litestream writes the header first
        salt = header.subarray(16, 24).toString('hex')
        this.#salts.set(key, salt)
      }
      indexes.push({ index: Number.parseInt(match[1]!, 16), salt })
    }
    indexes.sort((a, b) => a.index - b.index)
    return { generation, indexes }
  }
}

function readHeader(path: string): Buffer | null {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return null
  }
  try {
    const header = Buffer.alloc(WAL_HEADER_BYTES)
    return readSync(fd, header, 0, WAL_HEADER_BYTES, 0) === WAL_HEADER_BYTES ? header : null
  } finally {
    closeSync(fd)
  }
}

/**
 * Where `commit` lies in the current generation's replicated stream, or null while that
 * cannot be known yet. `currentSalt` is the salt of the real WAL's current lifetime, read
 * after `state` (see README, "Replicated position"):
 *
 * - the commit's WAL lifetime has a shadow index: the commit is at that index, same offset
 *   (Litestream copies each lifetime byte for byte, from offset 0);
 * - it has none, but the current lifetime does: the commit's lifetime ended (a WAL restart
 *   needs a full checkpoint) before Litestream's oldest kept index, so the commit is in
 *   the database file of every snapshot of this generation, and in every index Litestream
 *   already uploaded and removed; any position from the oldest kept index on covers it;
 * - otherwise (Litestream has not caught up with the current lifetime, has no generation
 *   yet, or is about to start a new one): unknown for now.
 */
export function locateCommit(
  state: ShadowState | null,
  currentSalt: string | null,
  commit: WalCommit,
): ReplicaPosition | null {
  if (!state) return null
  const { generation, indexes } = state
  for (let i = indexes.length - 1; i >= 0; i--) {
    const shadow = indexes[i]!
    if (shadow.salt === commit.salt)
      return { generation, index: shadow.index, offset: commit.offset }
  }
  if (currentSalt === null || currentSalt === commit.salt) return null
  if (!indexes.some((shadow) => shadow.salt === currentSalt)) return null
  return { generation, index: indexes[0]!.index, offset: 0 }
}
