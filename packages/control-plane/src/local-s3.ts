import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type EmbeddedS3, startEmbeddedS3Process } from '@litecell/replica'
import type { Logger } from 'pino'

/** Where the embedded S3 server's port is remembered between starts on one data folder. */
const PORT_FILE = 'embedded-s3-port'

/**
 * Starts the embedded S3 server (in a process of its own: serving every tenant's Litestream on
 * the control plane's event loop delayed its answers to workers past ≈ 60 of them, issue 12).
 * Without a configured port it takes the one it had on this data folder before: workers that
 * outlived a control plane (adopted by the next) keep replicating to the endpoint they were
 * given. Only if that port is taken by something else does it get a new one.
 */
export async function startLocalS3(
  dataDir: string,
  configuredPort: number,
  log: Logger,
): Promise<EmbeddedS3> {
  const dir = join(dataDir, 's3')
  const onRestart = (reason: string) => log.error(reason)
  const portFile = join(dataDir, PORT_FILE)
  let s3: EmbeddedS3 | undefined
  if (configuredPort === 0) {
    const remembered = Number((await readFile(portFile, 'utf8').catch(() => '')).trim())
    if (Number.isInteger(remembered) && remembered > 0 && remembered <= 65_535) {
      s3 = await startEmbeddedS3Process({ dir, port: remembered, onRestart }).catch(
        (err: unknown) => {
          log.warn(
            { err, port: remembered },
            'embedded S3: its previous port is taken; workers left running from before cannot replicate',
          )
          return undefined
        },
      )
    }
  }
  s3 ??= await startEmbeddedS3Process({ dir, port: configuredPort, onRestart })
  await writeFile(portFile, `${s3.port}\n`)
  return s3
}
