import { XMLParser } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import {
  createBucketXml,
  deleteRequestXml,
  parseDeleteFailures,
  parseListPage,
  s3ErrorBody,
} from './s3-xml.js'

const xml = (text: string): Buffer => Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${text}`)

describe('S3 XML', () => {
  it('reads keys as sent: no trimming, no numbers, entities and character references decoded', () => {
    const page = parseListPage(
      xml(`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>litecell</Name>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1/xY+z=</NextContinuationToken>
  <Contents><Key> 00123 </Key><LastModified>2026-12-02T10:00:00.123Z</LastModified><Size>42</Size></Contents>
  <Contents><Key>a&amp;b&lt;c&gt;&quot;&apos;&#xD;&#233;</Key><LastModified>2026-12-02T10:00:01.000Z</LastModified><Size>0</Size></Contents>
</ListBucketResult>`),
    )
    expect(page).toEqual({
      objects: [
        { key: ' 00123 ', sizeBytes: 42, lastModified: new Date('2026-12-02T10:00:00.123Z') },
        { key: 'a&b<c>"\'\ré', sizeBytes: 0, lastModified: new Date('2026-12-02T10:00:01.000Z') },
      ],
      nextToken: '1/xY+z=',
    })
    expect(
      parseListPage(xml('<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>')),
    ).toEqual({
      objects: [],
      nextToken: undefined,
    })
  })

  it('reads the per-key failures of a DeleteObjects answer, and none from a quiet success', () => {
    expect(
      parseDeleteFailures(
        xml(`<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Deleted><Key>ok</Key></Deleted>
  <Error><Key>a/b c</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>
  <Error><Key>d</Key><Code>InternalError</Code><Message>oops</Message></Error>
</DeleteResult>`),
      ),
    ).toEqual([
      { key: 'a/b c', code: 'AccessDenied', message: 'Access Denied' },
      { key: 'd', code: 'InternalError', message: 'oops' },
    ])
    expect(
      parseDeleteFailures(xml('<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>')),
    ).toEqual([])
  })

  it("reads S3's error body, and nothing from another body", () => {
    expect(
      s3ErrorBody(
        xml(
          '<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>x</BucketName></Error>',
        ),
      ),
    ).toEqual({ code: 'NoSuchBucket', message: 'The specified bucket does not exist' })
    expect(s3ErrorBody(Buffer.from(''))).toBeUndefined()
    expect(s3ErrorBody(Buffer.from('<html><body>502 Bad Gateway</body></html>'))).toBeUndefined()
    expect(s3ErrorBody(Buffer.from('not xml <<<'))).toBeUndefined()
  })

  it('writes keys that read back the same, markup and line breaks included', () => {
    const keys = ['plain', ' 00123 ', 'a&b<c>"\'', 'line\nbreak\r\ttab', 'é 日本 😀']
    const parsed = new XMLParser({
      parseTagValue: false,
      trimValues: false,
      htmlEntities: true,
    }).parse(deleteRequestXml(keys)) as { Delete: { Quiet: string; Object: { Key: string }[] } }
    expect(parsed.Delete.Quiet).toBe('true')
    expect(parsed.Delete.Object.map((o) => o.Key)).toEqual(keys)
    expect(createBucketXml('eu-west-1')).toContain(
      '<LocationConstraint>eu-west-1</LocationConstraint>',
    )
  })
})
