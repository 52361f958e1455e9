import { fstatSync, openSync, readSync, statSync } from 'node:fs'
import { endianness } from 'node:os'
import { ReplicaError, messageOf } from './replica-error.js'

/** SQLite's WAL file header and WAL frame header sizes, in bytes. */
export const WAL_HEADER_BYTES = 32
export const WAL_FRAME_HEADER_BYTES = 24
/** One copy of the wal-index header (`WalIndexHdr`) at the start of the `-shm` file. */
const INDEX_HEADER_BYTES = 48
/** A writer updates copy 1, then copy 0; a reader that sees them differ retries (wal.c). */
const READ_ATTEMPTS = 20

/**
 * Where the last committed transaction of a WAL-mode database ends: the lifetime of the
 * WAL it was written to (the header salts, which change at every WAL restart) and the byte
 * offset just past its commit frame. Litestream copies each lifetime byte for byte into
 * one shadow WAL index, so this is also the commit's offset in that shadow WAL and in the
 * replica's WAL segments.
 */
export interface WalCommit {
  /** The WAL header's two salts, 16 hex digits: names one lifetime of the WAL. */
  readonly salt: string
  /**
   * Bytes of that lifetime up to and including the commit frame:
   * `32 + frames × (pageSize + 24)`; 0 when the lifetime has no frame yet (everything
   * committed is in the database file).
   */
  readonly offset: number
  /** Database page size. */
  readonly pageSize: number
}

/**
 * Read the end of the last committed transaction of the database at `dbPath` from its
 * wal-index (`<db>-shm`, `WalIndexHdr`: `mxFrame`, salts, page size), the way a SQLite
 * reader does: both copies of the header must agree and carry a valid checksum. Costs one
 * `stat` and one 96-byte read. Call it right after your commit on the same thread: the
 * answer is that commit or a later one, never an earlier one. Throws `INVALID_CONFIG` when
 * the database has no open WAL-mode connection (no wal-index).
 *
 * @example
 * db.prepare('INSERT INTO orders …').run()
 * const commit = readLastCommit('/data/acme/tenant.db')
 * await replicator.confirmed(commit) // now in S3
 */
export function readLastCommit(dbPath: string): WalCommit {
  let fd: number
  try {
    fd = shmDescriptor(`${dbPath}-shm`)
  } catch (err) {
    throw new ReplicaError('INVALID_CONFIG', `read last commit of ${dbPath}: ${messageOf(err)}`, {
      cause: err,
      hint: 'the database needs an open connection in WAL mode',
    })
  }
  const buf = Buffer.alloc(2 * INDEX_HEADER_BYTES)
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
    const read = readSync(fd, buf, 0, buf.length, 0)
    const commit = read === buf.length ? decodeIndexHeader(buf) : null
    if (commit) return commit
  }
  throw new ReplicaError(
    'INVALID_CONFIG',
    `read last commit of ${dbPath}: the wal-index header stayed unreadable (uninitialized or torn) after ${READ_ATTEMPTS} reads`,
  )
}

/**
 * One read-only descriptor per `-shm` file (device and inode) for the life of the process,
 * never closed. Closing *any* descriptor of a file drops every POSIX (fcntl) lock this
 * process holds on it, and SQLite's wal-index locks are such locks: an open-read-close here
 * released the engine's own DMS lock, so Litestream's next connection believed it was the
 * first, truncated and re-initialised the `-shm`, and this process's connections took SIGBUS
 * on their mapping of it (or read an uninitialised header). SQLite's own VFS keeps such
 * descriptors open for the same reason. A worker sees one file per tenant incarnation.
 */
const shmDescriptors = new Map<string, { dev: number; ino: number; fd: number }>()

function shmDescriptor(path: string): number {
  const { dev, ino } = statSync(path)
  const known = shmDescriptors.get(path)
  if (known && known.dev === dev && known.ino === ino) return known.fd
  // A new file at this path: the old descriptor stays open (see above), the new one is kept.
  const fd = openSync(path, 'r')
  const opened = fstatSync(fd)
  shmDescriptors.set(path, { dev: opened.dev, ino: opened.ino, fd })
  return fd
}

/** Decode a stable, initialized, checksummed `WalIndexHdr`; null if torn or uninitialized. */
export function decodeIndexHeader(buf: Buffer): WalCommit | null {
  const copy0 = buf.subarray(0, INDEX_HEADER_BYTES)
  if (!copy0.equals(buf.subarray(INDEX_HEADER_BYTES, 2 * INDEX_HEADER_BYTES))) return null
  if (copy0[12] !== 1) return null // isInit
  const le = endianness() === 'LE'
  const u32 = (at: number): number => (le ? copy0.readUInt32LE(at) : copy0.readUInt32BE(at))
  // walChecksumBytes(nativeCksum=1) over the 40 bytes before aCksum.
  let s1 = 0
  let s2 = 0
  for (let at = 0; at < 40; at += 8) {
    s1 = (s1 + u32(at) + s2) >>> 0
    s2 = (s2 + u32(at + 4) + s1) >>> 0
  }
  if (s1 !== u32(40) || s2 !== u32(44)) return null
  const sz = le ? copy0.readUInt16LE(14) : copy0.readUInt16BE(14)
  // A 65536-byte page is stored as 1 (wal.c: `(szPage&0xff00) | (szPage>>16)`).
  const pageSize = (sz & 0xfe00) + ((sz & 0x0001) << 16)
  const frames = u32(16)
  return {
    // aSalt is copied byte for byte from the WAL header (bytes 16..24), not byte-swapped.
    salt: copy0.subarray(32, 40).toString('hex'),
    offset: frames === 0 ? 0 : WAL_HEADER_BYTES + frames * (pageSize + WAL_FRAME_HEADER_BYTES),
    pageSize,
  }
}

/** Throw a `TypeError` unless `value` looks like a {@link WalCommit} (boundary check). */
export function checkWalCommit(value: unknown): WalCommit {
  const commit = value as Partial<WalCommit> | null
  if (
    typeof commit !== 'object' ||
    commit === null ||
    typeof commit.salt !== 'string' ||
    !/^[0-9a-f]{16}$/.test(commit.salt) ||
    !Number.isSafeInteger(commit.offset) ||
    (commit.offset ?? -1) < 0 ||
    !Number.isSafeInteger(commit.pageSize)
  ) {
    throw new TypeError(
      `Expected a WAL commit from readLastCommit() ({salt, offset, pageSize}), got \`${JSON.stringify(value)}\` (${typeof value})`,
    )
  }
  return commit as WalCommit
}
