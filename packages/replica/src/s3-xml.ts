import { XMLParser } from 'fast-xml-parser'
import type { StoredObject } from './replica-store.js'
import type { DeleteFailure } from './storage-error.js'

// Values stay strings as sent: no number parsing (key `00123`), no trimming (key ` a `).
// `htmlEntities` decodes numeric references (`&#xD;`), which S3 uses for characters that
// plain XML text would not keep.
const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  isArray: (_name, path) => path === 'ListBucketResult.Contents' || path === 'DeleteResult.Error',
})

/** One page of a ListObjectsV2 answer. */
export interface ListPage {
  readonly objects: StoredObject[]
  /** The token of the next page, if the listing is truncated. */
  readonly nextToken: string | undefined
}

type XmlNode = Record<string, unknown>

/** Read a ListObjectsV2 answer (`<ListBucketResult>`). */
export function parseListPage(xml: Buffer): ListPage {
  const result = element(parser.parse(xml), 'ListBucketResult')
  const objects: StoredObject[] = []
  for (const entry of list(result?.Contents)) {
    const key = text(entry.Key)
    if (key === undefined) continue
    const modified = text(entry.LastModified)
    objects.push({
      key,
      sizeBytes: Number(text(entry.Size) ?? 0),
      lastModified: modified === undefined ? new Date(0) : new Date(modified),
    })
  }
  const truncated = text(result?.IsTruncated) === 'true'
  return { objects, nextToken: truncated ? text(result?.NextContinuationToken) : undefined }
}

/** The per-key failures of a DeleteObjects answer (`<DeleteResult>`). */
export function parseDeleteFailures(xml: Buffer): DeleteFailure[] {
  const result = element(parser.parse(xml), 'DeleteResult')
  return list(result?.Error).map((entry) => ({
    key: text(entry.Key) ?? '',
    code: text(entry.Code) ?? '',
    message: text(entry.Message) ?? '',
  }))
}

/** S3's `<Error><Code>…</Code><Message>…</Message></Error>`, or undefined for another body. */
export function s3ErrorBody(xml: Buffer): { code: string; message: string } | undefined {
  if (xml.length === 0) return undefined
  try {
    const error = element(parser.parse(xml), 'Error')
    const code = text(error?.Code)
    return code ? { code, message: text(error?.Message) ?? '' } : undefined
  } catch {
    return undefined
  }
}

/** The body of a quiet DeleteObjects request for `keys`. */
export function deleteRequestXml(keys: readonly string[]): string {
  const objects = keys.map((key) => `<Object><Key>${escapeXml(key)}</Key></Object>`).join('')
  return `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>${objects}</Delete>`
}

/** The body of a CreateBucket request outside us-east-1. */
export function createBucketXml(region: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${escapeXml(region)}</LocationConstraint></CreateBucketConfiguration>`
}

// Besides markup, line breaks and tabs are escaped: an XML reader would normalize them.
function escapeXml(value: string): string {
  return value.replace(/[&<>"'\r\n\t]/g, (c) => XML_ESCAPES[c] ?? c)
}
const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#xD;',
  '\n': '&#xA;',
  '\t': '&#x9;',
}

function element(parsed: unknown, name: string): XmlNode | undefined {
  const node = (parsed as XmlNode | null)?.[name]
  return typeof node === 'object' && node !== null ? (node as XmlNode) : undefined
}

function list(value: unknown): XmlNode[] {
  return Array.isArray(value)
    ? value.filter((v): v is XmlNode => typeof v === 'object' && v !== null)
    : []
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}
