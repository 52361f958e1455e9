import { execFile } from 'node:child_process'
import { constants } from 'node:fs'
import { access, open } from 'node:fs/promises'
import { delimiter, dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { packageRequire } from './package-require.js'
import { ReplicaError, messageOf } from './replica-error.js'

/** How long `litestream version` may take. */
export const VERSION_TIMEOUT_MS = 10_000

/** A resolved Litestream executable. */
export interface LitestreamBinary {
  /** Absolute path of the executable (never the npm wrapper script). */
  readonly path: string
  /** As reported by `litestream version`, e.g. `v0.3.13`. */
  readonly version: string
}

/**
 * Find the Litestream binary: `LITESTREAM_BIN`, then the platform npm package
 * (`@flydotio/litestream-<platform>-<arch>`, whose `litestream` file is the real binary),
 * then `litestream` on `PATH`. Throws `LITESTREAM_NOT_FOUND` with what was tried.
 */
export async function resolveLitestream(
  env: NodeJS.ProcessEnv = process.env,
): Promise<LitestreamBinary> {
  const explicit = env.LITESTREAM_BIN?.trim()
  if (explicit) {
    if (!(await isExecutable(explicit))) {
      throw new ReplicaError(
        'LITESTREAM_NOT_FOUND',
        `resolve litestream: LITESTREAM_BIN=${explicit} is not an executable file`,
        {
          hint: 'point LITESTREAM_BIN at the litestream binary or unset it',
        },
      )
    }
    return { path: explicit, version: await versionOf(explicit) }
  }
  const tried: string[] = []
  for (const candidate of [npmPackageBinary(), ...pathCandidates(env.PATH)]) {
    if (!candidate) continue
    tried.push(candidate)
    if ((await isExecutable(candidate)) && !(await isNodeScript(candidate))) {
      return { path: candidate, version: await versionOf(candidate) }
    }
  }
  throw new ReplicaError(
    'LITESTREAM_NOT_FOUND',
    `resolve litestream: no executable found (tried ${tried.join(', ') || 'nothing'})`,
    {
      hint: `install @flydotio/litestream-${process.platform}-${process.arch}, put litestream on PATH or set LITESTREAM_BIN`,
    },
  )
}

function npmPackageBinary(): string | undefined {
  const name = `@flydotio/litestream-${process.platform}-${process.arch}`
  try {
    const manifest = packageRequire.resolve(`${name}/package.json`)
    return join(dirname(manifest), process.platform === 'win32' ? 'litestream.exe' : 'litestream')
  } catch {
    return undefined
  }
}

function pathCandidates(pathVariable: string | undefined): string[] {
  return (pathVariable ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'litestream'))
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

// The npm wrapper (`@flydotio/litestream`) installs a node script named `litestream`; it
// forwards neither signals nor exit codes and leaves an orphan replicating, so skip it.
async function isNodeScript(path: string): Promise<boolean> {
  const handle = await open(path, 'r')
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(128), 0, 128, 0)
    const head = buffer.subarray(0, bytesRead).toString('latin1')
    return head.startsWith('#!') && head.split('\n')[0]!.includes('node')
  } finally {
    await handle.close()
  }
}

/**
 * `litestream version` per executable path, once per process: a wake resolves the binary for
 * its restore and again for its replicate, and each probe is a process spawn (0.2–0.5 s on a
 * loaded machine). A failed probe is not kept.
 */
const versions = new Map<string, Promise<string>>()

function versionOf(path: string): Promise<string> {
  let version = versions.get(path)
  if (!version) {
    version = probeVersion(path)
    versions.set(path, version)
    version.catch(() => versions.delete(path))
  }
  return version
}

async function probeVersion(path: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(path, ['version'], { timeout: VERSION_TIMEOUT_MS })
    const version = stdout.trim().split(/\s+/)[0]
    if (!version) throw new Error('empty output')
    return version
  } catch (err) {
    throw new ReplicaError(
      'LITESTREAM_NOT_FOUND',
      `resolve litestream: run ${path} version: ${messageOf(err)}`,
      {
        cause: err,
        hint: 'the file exists but does not run as litestream; check LITESTREAM_BIN and the platform',
      },
    )
  }
}
