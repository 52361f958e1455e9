import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Total size in bytes of the files under `path` (0 if it does not exist). */
export function dirBytes(path: string): number {
  let total = 0
  for (const file of filesUnder(path)) total += file.bytes
  return total
}

/** Number of files under `path`. */
export function fileCount(path: string): number {
  return filesUnder(path).length
}

/**
 * Bytes the embedded S3 server holds for each tenant: every file under `<dataDir>/s3/` whose
 * path has a `tenants/<id>/` segment (the replica layout `<prefix>/tenants/<id>`), plus the rest
 * (the control plane's registry replica, bucket metadata) under `other`.
 */
export function s3BytesByTenant(dataDir: string): { tenants: Map<string, number>; other: number } {
  const tenants = new Map<string, number>()
  let other = 0
  for (const file of filesUnder(join(dataDir, 's3'))) {
    const match = /(?:^|\/)tenants\/([^/]+)\//.exec(file.relative)
    if (match?.[1]) tenants.set(match[1], (tenants.get(match[1]) ?? 0) + file.bytes)
    else other += file.bytes
  }
  return { tenants, other }
}

function filesUnder(root: string): { relative: string; bytes: number }[] {
  const files: { relative: string; bytes: number }[] = []
  const walk = (relative: string) => {
    let entries
    try {
      entries = readdirSync(join(root, relative), { withFileTypes: true })
    } catch {
      return // gone or never there
    }
    for (const entry of entries) {
      const path = relative ? `${relative}/${entry.name}` : entry.name
      if (entry.isDirectory()) walk(path)
      else if (entry.isFile()) {
        try {
          files.push({ relative: path, bytes: statSync(join(root, path)).size })
        } catch {
          // removed while we looked
        }
      }
    }
  }
  walk('')
  return files
}
