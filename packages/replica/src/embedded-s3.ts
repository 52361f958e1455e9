import { mkdir } from 'node:fs/promises'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { packageRequire } from './package-require.js'
import { ReplicaError, messageOf } from './replica-error.js'
import {
  DEFAULT_BUCKET,
  DEFAULT_REGION,
  type StorageConfig,
  validateStorageConfig,
} from './storage-config.js'

/** The only credentials s3rver accepts (it checks the key id; it cannot check SigV4 secrets). */
export const EMBEDDED_S3_ACCESS_KEY_ID = 'S3RVER'
export const EMBEDDED_S3_SECRET_ACCESS_KEY = 'S3RVER'
/** Loopback only: the embedded server has no real authentication. */
export const EMBEDDED_S3_HOST = '127.0.0.1'

/** Options of {@link startEmbeddedS3}. */
export interface EmbeddedS3Options {
  /** Directory that holds the buckets (created if missing). */
  readonly dir: string
  /** TCP port on 127.0.0.1; 0 picks a free one. @default 0 */
  readonly port?: number
  /** Bucket created at start. @default 'litecell' */
  readonly bucket?: string
  /**
   * Called when an object has been stored (the server's own record of a PUT), with its key:
   * lets tests check that nothing is confirmed before the store holds it.
   */
  readonly onObjectCreated?: (key: string) => void
}

/** A running embedded S3 server. */
export interface EmbeddedS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string
  readonly port: number
  /** A storage config for this server's bucket, with the given key prefix. @default '' */
  storage(prefix?: string): StorageConfig
  /** Stop listening and drop open connections. */
  stop(): Promise<void>
}

interface S3rverInstance {
  run(): Promise<AddressInfo>
  close(): Promise<void>
  on(event: 'event', listener: (event: S3rverEvent) => void): void
  httpServer?: Server
}
/** The S3 event notification s3rver emits once an object is stored or removed. */
interface S3rverEvent {
  readonly Records: readonly { readonly eventName: string; readonly s3: { readonly object: { readonly key: string } } }[]
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance

/**
 * Start an S3-compatible server (s3rver, patched for Litestream: common prefixes of
 * deep keys, concurrent deletes, millisecond LastModified) on 127.0.0.1, with its data
 * in `dir` and `bucket` created. For local use without a cloud, and for tests.
 *
 * @example
 * const s3 = await startEmbeddedS3({ dir: join(dataDir, 's3') })
 * const replica = tenantReplica(s3.storage(), 'acme')
 */
export async function startEmbeddedS3(opts: EmbeddedS3Options): Promise<EmbeddedS3> {
  const { dir, port, bucket } = embeddedS3Settings(opts)
  const S3rver = packageRequire('s3rver') as S3rverConstructor
  const server = new S3rver({
    address: EMBEDDED_S3_HOST,
    port,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  })
  const onObjectCreated = opts.onObjectCreated
  if (onObjectCreated) {
    server.on('event', (event) => {
      for (const record of event.Records) {
        if (record.eventName.startsWith('ObjectCreated:')) onObjectCreated(record.s3.object.key)
      }
    })
  }
  let address: AddressInfo
  try {
    await mkdir(dir, { recursive: true })
    address = await server.run()
  } catch (err) {
    throw embeddedS3StartError(err, { dir, port, bucket })
  }
  const endpoint = embeddedS3Endpoint(address.port)
  let stopped: Promise<void> | undefined
  return {
    endpoint,
    port: address.port,
    storage: embeddedS3Storage(endpoint, bucket),
    stop: () => {
      stopped ??= new Promise<void>((done, fail) => {
        server.httpServer?.close((err) => (err ? fail(err) : done()))
        // Clients (Litestream, the SDK) keep idle keep-alive sockets; close() waits for them.
        server.httpServer?.closeAllConnections()
      })
      return stopped
    },
  }
}

/** The checked settings of an embedded S3 server. */
export interface EmbeddedS3Settings {
  readonly dir: string
  readonly port: number
  readonly bucket: string
}

/** {@link EmbeddedS3Options}' folder, port and bucket, checked and with their defaults. */
export function embeddedS3Settings(opts: EmbeddedS3Options): EmbeddedS3Settings {
  const bucket = opts.bucket ?? DEFAULT_BUCKET
  const port = opts.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new TypeError(
      `Expected \`port\` to be an integer from 0 to 65535, got \`${port}\` (${typeof port})`,
    )
  }
  validateStorageConfig({ bucket, prefix: '', region: DEFAULT_REGION })
  return { dir: resolve(opts.dir), port, bucket }
}

/** `http://127.0.0.1:<port>` */
export function embeddedS3Endpoint(port: number): string {
  return `http://${EMBEDDED_S3_HOST}:${port}`
}

/** {@link EmbeddedS3.storage} of a server at `endpoint` holding `bucket`. */
export function embeddedS3Storage(endpoint: string, bucket: string): (prefix?: string) => StorageConfig {
  return (prefix = '') => ({
    endpoint,
    bucket,
    prefix,
    region: DEFAULT_REGION,
    accessKeyId: EMBEDDED_S3_ACCESS_KEY_ID,
    secretAccessKey: EMBEDDED_S3_SECRET_ACCESS_KEY,
  })
}

/** Why an embedded S3 server did not start, with what to check. */
export function embeddedS3StartError(err: unknown, settings: EmbeddedS3Settings): ReplicaError {
  const { dir, port } = settings
  return new ReplicaError(
    'STORAGE_UNAVAILABLE',
    `start embedded s3 on ${EMBEDDED_S3_HOST}:${port}: ${messageOf(err)}`,
    {
      cause: err,
      hint:
        port === 0
          ? `check that ${dir} is writable`
          : `is port ${port} taken? pass port 0 for a free one`,
    },
  )
}
