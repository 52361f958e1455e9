import { decompressFrameSync } from 'lz4-napi'
import { ReplicaError, messageOf } from './replica-error.js'
import { type ReplicaPosition, comparePositions } from './replica-position.js'
import type { ReplicaStore, StoredObject } from './replica-store.js'

/** Litestream 0.3 object names (litestream.go: FormatSnapshotPath, FormatWALSegmentPath). */
const SNAPSHOT_NAME = /\/snapshots\/([0-9a-f]{8})\.snapshot\.lz4$/
const SEGMENT_NAME = /\/wal\/([0-9a-f]{8})_([0-9a-f]{8})\.wal\.lz4$/

/** How many reported segment lengths are kept. */
const MAX_REPORTED = 32

/** One uploaded WAL segment: bytes `[offset, offset + length)` of shadow WAL `index`. */
interface Segment {
  readonly key: string
  readonly index: number
  readonly offset: number
}

/**
 * How far one generation of a replica in S3 can be restored, learned from the store alone:
 * its snapshots and WAL segment objects (`generations/<gen>/snapshots/<index>.snapshot.lz4`,
 * `generations/<gen>/wal/<index>_<offset>.wal.lz4`, s3/replica_client.go). A segment's name
 * carries where it starts; where the newest one ends is either in Litestream's own report of
 * that upload ({@link ReplicaProgress.noteUpload}) or in its content (an LZ4 frame without a
 * content size), which is then read and decompressed, only when a caller needs a position
 * past its start. Objects never change once listed, so a generation's segments are listed
 * once from the index a caller needs (a long-lived generation holds thousands), and after
 * that only keys after the last one seen: one request per round.
 */
export class ReplicaProgress {
  readonly #store: ReplicaStore
  readonly #generationsPrefix: string
  #generation: string | null = null
  #snapshotIndex: number | null = null
  /** The first index whose segments were listed (earlier ones are not needed). */
  #listedFrom = 0
  /** Indexes that have a segment at offset 0 (a restore needs one for each). */
  readonly #startedIndexes = new Set<number>()
  /** The newest segment listed, and the greatest segment key (where the next listing starts). */
  #last: Segment | null = null
  readonly #lengths = new Map<string, number>()
  /** Lengths Litestream reported for segments (`<gen>/<index>/<offset>`), newest last. */
  readonly #reported = new Map<string, number>()

  /** @param replicaKeyPrefix the replica's key prefix, ending in `/` */
  constructor(store: ReplicaStore, replicaKeyPrefix: string) {
    this.#store = store
    this.#generationsPrefix = `${replicaKeyPrefix}generations/`
  }

  /**
   * Litestream reported (after S3 acknowledged the PUT) a WAL segment of `length` WAL bytes
   * starting at `start`: spares reading that object if it turns out to be the newest.
   */
  noteUpload(start: ReplicaPosition, length: number): void {
    this.#reported.set(`${start.generation}/${start.index}/${start.offset}`, length)
    // Only the newest segment is ever measured: a short memory is enough.
    for (const key of this.#reported.keys()) {
      if (this.#reported.size <= MAX_REPORTED) break
      this.#reported.delete(key)
    }
  }

  /**
   * List `generation` again and return how far a restore of it reaches: the end of its
   * newest WAL segment, or its snapshot's index if no segment follows; null when it has no
   * snapshot yet or its WAL stream is broken (a restore would fail). When `need` is at or
   * before the newest segment's start, that start is returned without reading the segment.
   * Storage failures throw `STORAGE_*` errors.
   */
  async frontier(
    generation: string,
    need: ReplicaPosition | null,
  ): Promise<ReplicaPosition | null> {
    if (generation !== this.#generation) {
      this.#generation = generation
      this.#snapshotIndex = null
      this.#listedFrom = 0
      this.#startedIndexes.clear()
      this.#last = null
      this.#lengths.clear()
    }
    const prefix = `${this.#generationsPrefix}${generation}/`
    if (this.#snapshotIndex === null) {
      this.#absorb(await this.#store.list(`${prefix}snapshots/`))
      if (this.#snapshotIndex === null) return null
      this.#listedFrom = Math.max(this.#snapshotIndex, need?.index ?? 0)
    }
    // Keys sort by index: everything from `#listedFrom` on sorts after `<index - 1>_ffffffff`.
    const startAfter =
      this.#last?.key ??
      (this.#listedFrom > 0
        ? `${prefix}wal/${hex8(this.#listedFrom - 1)}_ffffffff.wal.lz4`
        : undefined)
    this.#absorb(await this.#store.list(`${prefix}wal/`, startAfter ? { startAfter } : {}))
    return this.#reach(generation, need)
  }

  #absorb(objects: readonly StoredObject[]): void {
    for (const { key } of objects) {
      const snapshot = SNAPSHOT_NAME.exec(key)
      if (snapshot) {
        const index = Number.parseInt(snapshot[1]!, 16)
        this.#snapshotIndex = Math.max(this.#snapshotIndex ?? index, index)
        continue
      }
      const match = SEGMENT_NAME.exec(key)
      if (!match) continue
      const segment = {
        key,
        index: Number.parseInt(match[1]!, 16),
        offset: Number.parseInt(match[2]!, 16),
      }
      if (segment.offset === 0) this.#startedIndexes.add(segment.index)
      // Fixed-width hex names: key order is position order.
      if (!this.#last || key > this.#last.key) this.#last = segment
    }
  }

  async #reach(generation: string, need: ReplicaPosition | null): Promise<ReplicaPosition | null> {
    const from = this.#snapshotIndex
    if (from === null) return null
    const last = this.#last
    if (!last || last.index < from) return { generation, index: from, offset: 0 }
    // A restore applies every index from the snapshot's to the last, each from offset 0
    // (replica.go, Restore/walSegmentMap); a gap makes it fail. (Indexes before the first
    // one listed are Litestream's to keep whole: it moves on only past a finished index.)
    for (let index = this.#listedFrom; index <= last.index; index++) {
      if (!this.#startedIndexes.has(index)) return null
    }
    const start = { generation, index: last.index, offset: last.offset }
    if (need && comparePositions(need, start) <= 0) return start
    return { ...start, offset: last.offset + (await this.#length(last)) }
  }

  /** Decompressed length of a segment: how many WAL bytes it holds. */
  async #length(segment: Segment): Promise<number> {
    const cached =
      this.#lengths.get(segment.key) ??
      this.#reported.get(`${this.#generation}/${segment.index}/${segment.offset}`)
    if (cached !== undefined) return cached
    const bytes = await this.#store.read(segment.key)
    // Deleted between listing and reading (retention): nothing is known past its start.
    if (!bytes) return 0
    let length: number
    try {
      length = decompressFrameSync(
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      ).length
    } catch (err) {
      throw new ReplicaError(
        'REPLICA_NOT_VERIFIED',
        `decompress wal segment ${segment.key}: ${messageOf(err)}`,
        {
          cause: err,
          hint: 'the replica holds a damaged WAL segment; a restore would fail there',
        },
      )
    }
    this.#lengths.clear() // only the newest segment is ever measured again
    this.#lengths.set(segment.key, length)
    return length
  }
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0')
}
