import { expect, test } from 'vitest'
import { storageFromEnv, storageToEnv } from './storage-env.js'

test('no bucket and no endpoint means no storage (the embedded S3 server)', () => {
  expect(storageFromEnv({ AWS_REGION: 'eu-west-1' })).toBeNull()
})

test('every variable is read', () => {
  expect(
    storageFromEnv({
      LITECELL_S3_ENDPOINT: 'http://minio:9000',
      LITECELL_S3_BUCKET: 'tenants',
      LITECELL_S3_PREFIX: 'prod',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIA',
      AWS_SECRET_ACCESS_KEY: 'secret',
    }),
  ).toEqual({
    endpoint: 'http://minio:9000',
    bucket: 'tenants',
    prefix: 'prod',
    region: 'eu-west-1',
    accessKeyId: 'AKIA',
    secretAccessKey: 'secret',
  })
})

test('bucket and region have defaults, and credentials are left to the AWS chain', () => {
  expect(storageFromEnv({ LITECELL_S3_ENDPOINT: 'http://127.0.0.1:9000' })).toEqual({
    endpoint: 'http://127.0.0.1:9000',
    bucket: 'litecell',
    prefix: '',
    region: 'us-east-1',
  })
  expect(
    storageFromEnv({ LITECELL_S3_BUCKET: 'b', AWS_DEFAULT_REGION: 'ap-south-1' })?.region,
  ).toBe('ap-south-1')
})

test('the serializer writes what the parser reads back', () => {
  for (const storage of [
    { bucket: 'b', prefix: '', region: 'us-east-1' },
    {
      endpoint: 'https://r2.example.com',
      bucket: 'tenants',
      prefix: 'prod/eu',
      region: 'auto',
      accessKeyId: 'id',
      secretAccessKey: 'key',
    },
  ]) {
    expect(storageFromEnv(storageToEnv(storage))).toEqual(storage)
  }
})
