import { mkdtempSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmbeddedS3, type EmbeddedS3 } from '@litecell/replica'

/**
 * An S3-compatible server that a test can take down and bring back (on the same port, with the
 * same data): a storage outage. It runs in the test's process, apart from the `litecell serve`
 * under test, which reaches it through the environment of {@link OutageS3.env}.
 */
export class OutageS3 {
  readonly dir: string
  #server: EmbeddedS3
  #port: number
  #down = false

  private constructor(dir: string, server: EmbeddedS3) {
    this.dir = dir
    this.#server = server
    this.#port = server.port
  }

  /** Starts one on a free port, its data in a fresh temp folder. */
  static async start(): Promise<OutageS3> {
    const dir = mkdtempSync(join(tmpdir(), 'litecell-outage-s3-'))
    return new OutageS3(dir, await startEmbeddedS3({ dir, port: 0 }))
  }

  get endpoint(): string {
    return this.#server.endpoint
  }

  /** Whether the server is down right now. */
  get isDown(): boolean {
    return this.#down
  }

  /** Takes the server down (the outage begins). */
  async stop(): Promise<void> {
    if (this.#down) return
    this.#down = true
    await this.#server.stop()
  }

  /** Brings it back on the same port with the same data, if it is down. */
  async restart(): Promise<void> {
    if (!this.#down) return
    this.#server = await startEmbeddedS3({ dir: this.dir, port: this.#port })
    this.#down = false
  }

  /** Environment pointing `litecell serve` at this server, under its own key prefix. */
  env(prefix: string): Record<string, string> {
    return {
      LITECELL_S3_ENDPOINT: this.endpoint,
      LITECELL_S3_BUCKET: 'litecell',
      LITECELL_S3_PREFIX: prefix,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
    }
  }

  /** Stops the server (if up) and removes its data. */
  async dispose(): Promise<void> {
    if (!this.#down) await this.#server.stop()
    this.#down = true
    await rm(this.dir, { recursive: true, force: true })
  }
}
