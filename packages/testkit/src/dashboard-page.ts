import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { REPO_ROOT } from './litecell-server.js'

/** Screenshots for a person to look at (gitignored). */
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-results/dashboard')

/** A browser tab on the dashboard, with what it saw: dialogs and script errors. */
export interface DashboardTab {
  readonly page: Page
  /** Messages of every `alert`/`confirm`/`prompt` that fired (none should). */
  readonly dialogs: string[]
  /** Uncaught errors and CSP violations reported by the page. */
  readonly errors: string[]
  signIn(token: string): Promise<void>
  /** Sets the hash route (no reload) and waits for `selector`. */
  go(hash: string, selector: string): Promise<void>
  screenshot(name: string): Promise<string>
}

/** Opens the dashboard at `url` in a new tab of `context`. */
export async function openDashboard(context: BrowserContext, url: string): Promise<DashboardTab> {
  const page = await context.newPage()
  const dialogs: string[] = []
  const errors: string[] = []
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text()))
      errors.push(message.text())
  })
  await page.goto(url)
  return {
    page,
    dialogs,
    errors,
    async signIn(token) {
      await page.fill('input[name=token]', token)
      await page.click('form.signin-card button[type=submit]')
      await page.waitForSelector('.topbar')
    },
    async go(hash, selector) {
      await page.evaluate(`location.hash = ${JSON.stringify(hash)}`)
      await page.waitForSelector(selector)
    },
    async screenshot(name) {
      mkdirSync(SCREENSHOT_DIR, { recursive: true })
      const path = join(SCREENSHOT_DIR, `${name}.png`)
      await page.screenshot({ path, fullPage: true })
      return path
    },
  }
}

/**
 * Counts the pixels of a canvas that carry colour (the chart's lines; axes and grid are grey),
 * read back from the canvas itself.
 */
export async function colouredPixels(page: Page, selector: string): Promise<number> {
  return page.$eval(selector, (element) => {
    // Runs in the page; typed structurally, since the test project has no DOM types.
    const canvas = element as unknown as {
      width: number
      height: number
      getContext(kind: '2d'): {
        getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray }
      }
    }
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
    let count = 0
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!]
      if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) count += 1
    }
    return count
  })
}
