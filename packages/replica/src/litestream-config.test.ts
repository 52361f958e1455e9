import { readFileSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LitestreamConfig, renderConfig } from './litestream-config.js'

const storage = {
  endpoint: 'http://127.0.0.1:9000',
  bucket: 'litecell',
  prefix: 'p',
  region: 'us-east-1',
  accessKeyId: 'AKID',
  secretAccessKey: 'very-secret',
}

describe('LitestreamConfig', () => {
  it('renders one database with one path-style S3 replica and the chosen intervals', () => {
    const yaml = renderConfig({
      dbPath: '/data/a "quoted" $HOME/tenant.db',
      replica: { storage, path: 'p/tenants/a' },
      syncIntervalMs: 200,
      monitorIntervalMs: 100,
      retentionMs: 3_600_000,
    })
    expect(yaml).toContain('  - path: "/data/a \\"quoted\\" $HOME/tenant.db"')
    expect(yaml).toContain('    monitor-interval: 100ms')
    expect(yaml).toContain('        path: "p/tenants/a"')
    expect(yaml).toContain(
      '        endpoint: "http://127.0.0.1:9000"\n        force-path-style: true',
    )
    expect(yaml).toContain('        sync-interval: 200ms')
    expect(yaml).toContain('        retention: 3600000ms')
    expect(yaml).not.toContain('snapshot-interval')
  })

  it('keeps secrets out of the file, which is private, and hands them over by environment', async () => {
    const config = await LitestreamConfig.write({
      dbPath: '/x.db',
      replica: { storage, path: 'p' },
    })
    try {
      expect(readFileSync(config.path, 'utf8')).not.toMatch(/very-secret|AKID/)
      expect(statSync(config.path).mode & 0o777).toBe(0o600)
      expect(statSync(dirname(config.path)).mode & 0o777).toBe(0o700)
      expect(config.env()).toEqual({
        LITESTREAM_ACCESS_KEY_ID: 'AKID',
        LITESTREAM_SECRET_ACCESS_KEY: 'very-secret',
      })
      expect(config.args()).toEqual(['-config', config.path, '-no-expand-env'])
    } finally {
      await config.remove()
    }
  })
})
