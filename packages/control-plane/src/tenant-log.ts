import { open, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** Lines a log request shows when it names no number. */
export const DEFAULT_LOG_LINES = 100
/** Most lines one request may ask for. */
export const MAX_LOG_LINES = 10_000
/** How often a followed log file is checked for new lines. */
export const LOG_FOLLOW_POLL_MS = 250
/** Most bytes read backwards from the end to find the last lines. */
const MAX_TAIL_BYTES = 8 * 1024 * 1024
const CHUNK_BYTES = 64 * 1024

/** What a log request asks for. */
export interface LogRequest {
  /** Lines from the end to start with. */
  readonly lines: number
  /** Keep the stream open and send lines as they are written, until `signal` aborts. */
  readonly follow: boolean
  readonly signal: AbortSignal
}

/** The file a local worker of `tenantId` writes its output to (stdout and stderr). */
export function tenantLogPath(logsDir: string, tenantId: string): string {
  return join(logsDir, `${tenantId}.log`)
}

/**
 * A tenant's log file as a text stream: its last `lines` lines, then (with `follow`) what is
 * appended, read by polling (a worker restart appends to the same file; a truncated file is
 * read again from its start). A missing file is an empty log (nothing ran yet), followed until
 * it appears.
 */
export function streamLogFile(path: string, request: LogRequest): ReadableStream<Uint8Array> {
  let position = 0
  let timer: NodeJS.Timeout | undefined
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const size = await sizeOf(path)
      const tail = await tailBytes(path, size, request.lines)
      if (tail.length > 0) controller.enqueue(tail)
      position = size
      if (!request.follow || request.signal.aborted) return controller.close()
      const poll = async () => {
        try {
          const now = await sizeOf(path)
          if (now < position) position = 0 // truncated or replaced: read it anew
          if (now > position) {
            controller.enqueue(await readRange(path, position, now))
            position = now
          }
        } catch {
          // The file went away between two looks: the next look finds it, or not.
        }
        if (!request.signal.aborted) timer = setTimeout(poll, LOG_FOLLOW_POLL_MS)
      }
      request.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer)
          try {
            controller.close()
          } catch {
            // already closed
          }
        },
        { once: true },
      )
      timer = setTimeout(poll, LOG_FOLLOW_POLL_MS)
    },
    cancel() {
      clearTimeout(timer)
    },
  })
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size
  } catch {
    return 0
  }
}

/** The bytes of the last `lines` lines of the file's first `size` bytes. */
async function tailBytes(path: string, size: number, lines: number): Promise<Uint8Array> {
  if (size === 0 || lines === 0) return new Uint8Array()
  let start = size
  let newlines = 0
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(CHUNK_BYTES)
    // Count newlines backwards; the file's final newline ends the last line, not a new one.
    while (start > 0 && size - start < MAX_TAIL_BYTES) {
      const length = Math.min(CHUNK_BYTES, start)
      await handle.read(buffer, 0, length, start - length)
      for (let i = length - 1; i >= 0; i -= 1) {
        if (buffer[i] !== 0x0a || start - length + i === size - 1) continue
        newlines += 1
        if (newlines === lines) {
          start = start - length + i + 1
          return await readRange(path, start, size)
        }
      }
      start -= length
    }
    return await readRange(path, start, size)
  } finally {
    await handle.close()
  }
}

async function readRange(path: string, from: number, to: number): Promise<Uint8Array> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(to - from)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, from)
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}
