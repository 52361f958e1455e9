import { existsSync, mkdtempSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext } from 'playwright-core'

/** Where Debian's `chromium` package puts the browser; `CHROMIUM_PATH` overrides. */
export const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
]

/** A headless Chromium with a fresh profile, closed (and its profile removed) by `close()`. */
export interface TestBrowser {
  readonly browser: BrowserContext
  close(): Promise<void>
}

/**
 * The Chromium to drive. Throws (never skips) when there is none: a browser test that passed
 * without a browser would prove nothing. `.ci/run` installs Debian's `chromium` when missing.
 */
export function chromiumPath(): string {
  const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : CHROMIUM_CANDIDATES
  const found = candidates.find((path) => existsSync(path))
  if (!found) {
    throw new Error(
      `no Chromium found (looked at ${candidates.join(', ')}): install it with \`apt-get install -y chromium\` or set CHROMIUM_PATH`,
    )
  }
  return found
}

/** Launches headless Chromium (Debian's build, through playwright-core) with a throwaway profile. */
export async function launchBrowser(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'litecell-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    viewport: options.viewport ?? { width: 1440, height: 900 },
    deviceScaleFactor: 1,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
  return {
    browser: context,
    async close() {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    },
  }
}

export type { Browser }
