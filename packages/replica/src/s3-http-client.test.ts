import { type Hash, type Hmac, createHash, createHmac } from 'node:crypto'
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignatureV4 } from '@smithy/signature-v4'
import { afterEach, describe, expect, it } from 'vitest'
import { S3HttpClient, S3ResponseError } from './s3-http-client.js'
import { S3HttpReplicaStore } from './s3-http-replica-store.js'
import { isReplicaError } from './replica-error.js'
import type { StorageConfig } from './storage-config.js'
import { storageError } from './storage-error.js'

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
}

/** Node's `crypto` as the SDK signer's hash, an HMAC when given a key (as @smithy/hash-node). */
class Sha256 {
  readonly #hash: Hash | Hmac
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret))
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytesOf(data))
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest()
  }
  reset(): void {}
}

function bytesOf(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

interface Received {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: Buffer
  /** The signature the AWS SDK's signer computes for this request as received. */
  readonly expectedAuthorization: string
}

/**
 * A loopback HTTP server that checks SigV4 as S3 does, which s3rver cannot (it checks the key
 * id only): it recomputes each request's signature with the AWS SDK's own signer
 * (@smithy/signature-v4, configured as the S3 client configures it) from the request as it
 * arrived, and answers with `answer`.
 */
async function startSigningServer(
  region: string,
  answer: (req: Received, res: ServerResponse) => void,
): Promise<{ server: Server; endpoint: string; received: Received[] }> {
  const received: Received[] = []
  const signer = new SignatureV4({
    service: 's3',
    region,
    credentials: CREDENTIALS,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: true,
  })
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks)
        const authorization = req.headers.authorization ?? ''
        const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? []
        const [path = '', search = ''] = (req.url ?? '').split('?')
        const query: Record<string, string> = {}
        for (const pair of search.split('&').filter(Boolean)) {
          const [name = '', value = ''] = pair.split('=')
          query[decodeURIComponent(name)] = decodeURIComponent(value)
        }
        const headers: Record<string, string> = {}
        for (const name of signedHeaders) headers[name] = String(req.headers[name] ?? '')
        const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(
          String(req.headers['x-amz-date']),
        )
        const signingDate = date
          ? new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!))
          : new Date(0)
        const signed = await signer.sign(
          {
            method: req.method ?? 'GET',
            protocol: 'http:',
            hostname: '127.0.0.1',
            path,
            query,
            headers,
            body,
          },
          { signingDate },
        )
        const entry = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body,
          expectedAuthorization: String(signed.headers.authorization),
        }
        received.push(entry)
        answer(entry, res)
      })()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { server, endpoint: `http://127.0.0.1:${port}`, received }
}

function storageAt(endpoint: string, region = 'eu-west-1'): StorageConfig {
  return { endpoint, bucket: 'litecell', prefix: '', region, ...CREDENTIALS }
}

const EMPTY_LIST =
  '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated></ListBucketResult>'

describe('S3HttpClient', () => {
  const servers: Server[] = []
  const clients: S3HttpClient[] = []
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    for (const server of servers.splice(0)) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  function clientFor(storage: StorageConfig, opts = {}): S3HttpClient {
    const client = new S3HttpClient(storage, opts)
    clients.push(client)
    return client
  }

  it('signs every kind of request as the AWS SDK signs it, special characters included', async () => {
    const { server, endpoint, received } = await startSigningServer('eu-west-1', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' }).end(EMPTY_LIST)
    })
    servers.push(server)
    const client = clientFor(storageAt(endpoint))
    const odd = 'a b+c/é 日本/%2F?#&=!\'()*~[]{}^`|\\;:@$,<>"/😀'
    await client.send({ method: 'GET', query: { 'list-type': '2', 'max-keys': '1' } })
    await client.send({
      method: 'GET',
      query: {
        'list-type': '2',
        prefix: `tenants/${odd}`,
        'continuation-token': '1/xY+z=/a==',
        'start-after': odd,
      },
    })
    await client.send({ method: 'GET', key: `tenants/${odd}` })
    await client.send({ method: 'GET', key: 'a//double/./dot/../x' })
    const body = Buffer.from('<Delete><Object><Key>x</Key></Object></Delete>')
    await client.send({
      method: 'POST',
      query: { delete: '' },
      body,
      headers: {
        'Content-Type': 'application/xml',
        'Content-MD5': createHash('md5').update(body).digest('base64'),
      },
    })
    await client.send({ method: 'PUT', body: Buffer.from('<CreateBucketConfiguration/>') })
    expect(received).toHaveLength(6)
    for (const request of received) {
      expect(request.headers.authorization, `${request.method} ${request.url}`).toBe(
        request.expectedAuthorization,
      )
      expect(request.headers['x-amz-content-sha256']).toBe(
        createHash('sha256').update(request.body).digest('hex'),
      )
    }
    // The key arrives whole: the server decodes the path segment by segment.
    const keyPath = received[2]!.url.slice('/litecell/'.length)
    expect(keyPath.split('/').map(decodeURIComponent).join('/')).toBe(`tenants/${odd}`)
    expect(received[3]!.url).toBe('/litecell/a//double/./dot/../x')
    expect(received[4]!.headers['content-md5']).toBe(
      createHash('md5').update(body).digest('base64'),
    )
    expect(received[4]!.headers.authorization).toMatch(/SignedHeaders=[^,]*content-md5/)
  })

  it('addresses AWS virtual-hosted by region, path-style for dotted buckets and endpoints', () => {
    const aws = { bucket: 'litecell', prefix: '', region: 'eu-west-1', ...CREDENTIALS }
    expect(clientFor(aws).urlOf('a b/c')).toBe(
      'https://litecell.s3.eu-west-1.amazonaws.com/a%20b/c',
    )
    expect(clientFor({ ...aws, bucket: 'my.bucket' }).urlOf('k')).toBe(
      'https://s3.eu-west-1.amazonaws.com/my.bucket/k',
    )
    expect(clientFor({ ...aws, region: 'cn-north-1' }).urlOf()).toBe(
      'https://litecell.s3.cn-north-1.amazonaws.com.cn/',
    )
    expect(clientFor({ ...aws, endpoint: 'https://r2.example.test/' }).urlOf('k')).toBe(
      'https://r2.example.test/litecell/k',
    )
  })

  it('retries a 503 and a dropped connection, then succeeds', async () => {
    let calls = 0
    const { server, endpoint } = await startSigningServer('eu-west-1', (_req, res) => {
      calls++
      if (calls === 1) {
        res
          .writeHead(503)
          .end('<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>')
      } else if (calls === 2) {
        res.socket?.destroy()
      } else {
        res.writeHead(200).end(EMPTY_LIST)
      }
    })
    servers.push(server)
    const answer = await clientFor(storageAt(endpoint)).send({
      method: 'GET',
      query: { 'list-type': '2' },
    })
    expect(answer.statusCode).toBe(200)
    expect(calls).toBe(3)
  })

  it('gives up after 3 attempts with the last error, and does not retry a 4xx', async () => {
    let calls = 0
    const { server, endpoint } = await startSigningServer('eu-west-1', (req, res) => {
      calls++
      if (req.url.includes('forbidden')) {
        res
          .writeHead(403)
          .end('<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>')
      } else {
        res
          .writeHead(500)
          .end(
            '<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>',
          )
      }
    })
    servers.push(server)
    const storage = storageAt(endpoint)
    const client = clientFor(storage)
    const failure = await client.send({ method: 'GET', key: 'x' }).catch((e: unknown) => e)
    expect(calls).toBe(3)
    expect(failure).toBeInstanceOf(S3ResponseError)
    expect(storageError(failure, 'read object x', storage)).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      message: expect.stringMatching(
        /InternalError: We encountered an internal error.*the storage answered with an error/,
      ),
    })
    calls = 0
    const denied = await client.send({ method: 'GET', key: 'forbidden' }).catch((e: unknown) => e)
    expect(calls).toBe(1)
    expect(storageError(denied, 'read object forbidden', storage)).toMatchObject({
      code: 'STORAGE_FORBIDDEN',
      message: expect.stringMatching(
        /access denied by s3:\/\/litecell\/.*AccessDenied: Access Denied/,
      ),
    })
  })

  it('times out a request that gets no answer, per attempt', async () => {
    let calls = 0
    const { server, endpoint } = await startSigningServer('eu-west-1', () => {
      calls++
    })
    servers.push(server)
    const storage = storageAt(endpoint)
    const started = Date.now()
    const failure = await clientFor(storage, { requestTimeoutMs: 200 })
      .send({ method: 'GET', key: 'x' })
      .catch((e: unknown) => e)
    expect(calls).toBe(3)
    expect(Date.now() - started).toBeGreaterThanOrEqual(600)
    expect(storageError(failure, 'read object x', storage)).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      message: expect.stringMatching(
        /no answer from 127\.0\.0\.1 for 200 ms.*check that the S3 endpoint is up/,
      ),
    })
  })

  it('names a bucket in another region, without following the redirect', async () => {
    let calls = 0
    const { server, endpoint } = await startSigningServer('eu-west-1', (_req, res) => {
      calls++
      res
        .writeHead(301)
        .end(
          '<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>',
        )
    })
    servers.push(server)
    const storage = storageAt(endpoint)
    const failure = await clientFor(storage)
      .send({ method: 'GET', query: { 'list-type': '2' } })
      .catch((e: unknown) => e)
    expect(calls).toBe(1)
    expect(storageError(failure, 'check bucket litecell', storage)).toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      hint: 'check AWS_REGION (eu-west-1): the bucket may be in another region',
    })
  })

  // s3rver deletes every key it is given: a store that refuses some is this server.
  it("reports a DeleteObjects answer's per-key failures as the SDK store does", async () => {
    const { server, endpoint, received } = await startSigningServer('eu-west-1', (_req, res) => {
      res
        .writeHead(200)
        .end(
          '<DeleteResult><Error><Key>a/b c</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>',
        )
    })
    servers.push(server)
    const store = new S3HttpReplicaStore(storageAt(endpoint))
    try {
      const err = await store.delete(['a/b c', 'd']).catch((e: unknown) => e)
      expect(isReplicaError(err) && err.code).toBe('STORAGE_FORBIDDEN')
      expect((err as Error).message).toMatch(
        /^delete 2 objects: 1 failed, first a\/b c: AccessDenied Access Denied \(hint: retry/,
      )
      const [request] = received
      expect(request!.headers.authorization).toBe(request!.expectedAuthorization)
      expect(request!.headers['content-md5']).toBe(
        createHash('md5').update(request!.body).digest('base64'),
      )
      expect(request!.body.toString()).toContain('<Quiet>true</Quiet><Object><Key>a/b c</Key>')
    } finally {
      store.close()
    }
  })
})
