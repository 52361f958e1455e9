/**
 * The web dashboard in a real browser (Debian's headless Chromium) against a real
 * `litecell serve` with real workers, Litestream and the embedded S3 server. Nothing is
 * mocked: every page talks to the public API over HTTP, live updates come over the run stream.
 *
 * Breakages these catch: the bundle not built or not served (no sign-in form), a CSP that
 * allows inline scripts, a token accepted that should not be (or a tenant token reaching
 * another tenant), a run list that needs a reload to show new statuses (the stream or its
 * relay broken), a timeline missing steps, a chart that draws nothing, tenant data
 * interpreted as markup (a dialog fires or an <img> appears). Screenshots of each page go to
 * test-results/dashboard/ for a person to look at.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { launchBrowser, colouredPixels, openDashboard, type DashboardTab, type TestBrowser } from '@litecell/testkit/browser'
import { waitFor } from '@litecell/testkit'
import { useServer } from '@litecell/testkit/e2e'

const XSS = '<img src=x onerror=alert(1)>'
const LRS = [0.001, 0.01, 0.1, 1]

const server = useServer({ env: { LITECELL_IDLE_MS: '60000' } })
let browser: TestBrowser
let tab: DashboardTab
let labToken = ''

beforeAll(async () => {
  browser = await launchBrowser()
  tab = await openDashboard(browser.browser, server.url)
})

afterAll(async () => {
  await browser?.close()
})

describe('dashboard', () => {
  test('is served at / with a Content-Security-Policy that forbids inline scripts', async () => {
    const response = await fetch(`${server.url}/`)
    expect(response.status).toBe(200)
    const csp = response.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    const html = await response.text()
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.length).toBeGreaterThan(0)
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="assets\/app-[A-Z0-9]+\.js"/)
      expect(body).toBe('')
    }
    const asset = /src="(assets\/[^"]+)"/.exec(html)![1]!
    const script = await fetch(`${server.url}/${asset}`)
    expect(script.headers.get('cache-control')).toContain('immutable')
  })

  test('a wrong token gets a clear message and the admin token signs in', async () => {
    await tab.page.fill('input[name=token]', 'lca_wrong-token')
    await tab.page.click('form.signin-card button[type=submit]')
    await tab.page.waitForSelector('.error-note')
    expect(await tab.page.textContent('.error-note')).toMatch(/not accepted/)
    await tab.screenshot('sign-in-rejected')
    await tab.signIn(server.adminToken)
    expect(await tab.page.textContent('[data-testid=who]')).toBe('admin')
    await tab.page.waitForSelector('[data-testid=fleet-strip]')
    expect(await tab.page.evaluate("sessionStorage.getItem('litecell.token')")).toBe(server.adminToken)
    expect(await tab.page.evaluate('document.cookie')).toBe('')
  })

  test('the admin creates a tenant and sees its token once, with a copy button', async () => {
    await tab.page.click('text=Create tenant')
    await tab.page.fill('dialog[open] input[name=id]', 'lab')
    await tab.page.fill('dialog[open] input[name=labels]', 'team=ml, project=sweep')
    await tab.page.click('dialog[open] button[type=submit]')
    const token = tab.page.locator('[data-testid=new-token]')
    await token.waitFor()
    labToken = await token.inputValue()
    expect(labToken).toMatch(/^lct_/)
    expect(await tab.page.locator('dialog[open] button', { hasText: 'Copy' }).count()).toBe(1)
    await tab.screenshot('tenant-created')
    await tab.page.click('dialog[open] button:has-text("Done")')
    await tab.page.waitForSelector('tr[data-tenant=lab]')
    // The Durability column shows the tenant's setting (`local`: the local launcher's default).
    expect(await tab.page.textContent('tr[data-tenant=lab] td:nth-child(4)')).toBe('local')
    // The token works, and the API never shows it again.
    expect((await server.admin.withToken(labToken).send<any>('GET', '/v1/whoami')).body).toEqual({ kind: 'tenant', tenantId: 'lab' })
    expect(JSON.stringify((await server.admin.send<any>('GET', '/v1/tenants/lab')).body)).not.toContain(labToken)
  })

  test('a sweep started from the UI shows its runs turning succeeded without a reload', async () => {
    await tab.go('#/tenants/lab', '[data-testid=runs-table]')
    await tab.page.evaluate('window.loadedOnce = true')
    await tab.page.click('text=Start run')
    await tab.page.fill('dialog[open] input[name=workflow]', 'sweep')
    await tab.page.fill('dialog[open] textarea[name=input]', JSON.stringify({ lrs: LRS, epochs: 8 }))
    await tab.page.click('dialog[open] button[type=submit]')
    const rows = tab.page.locator('[data-testid=runs-table] tbody tr[data-run]')
    await waitFor(async () => (await rows.count()) === 1 + LRS.length, { what: 'the sweep and its children listed' })
    await waitFor(
      async () => (await tab.page.locator('tr[data-run][data-status=succeeded]').count()) === 1 + LRS.length,
      { what: 'every run of the sweep succeeded on screen', timeoutMs: 60_000 },
    )
    // A run that sleeps between phases: seen sleeping, then succeeded, with the page left alone.
    const slow = await server.admin.post<any>('/v1/tenants/lab/runs', { workflow: 'train', input: { lr: 0.05, epochs: 4, coolDown: '2s' } })
    await tab.page.waitForSelector(`tr[data-run="${slow.runId}"][data-status=sleeping]`, { timeout: 20_000 })
    await tab.page.waitForSelector(`tr[data-run="${slow.runId}"][data-status=succeeded]`, { timeout: 30_000 })
    expect(await tab.page.evaluate('window.loadedOnce')).toBe(true)
    expect(await tab.page.textContent('[data-testid=live]')).toContain('live')
    await tab.screenshot('runs')
  })

  test('a run page shows one timeline bar per step, step output on click, and links its children', async () => {
    const sweep = (await server.admin.send<any>('GET', '/v1/tenants/lab/runs?workflow=sweep')).body.runs[0]
    await tab.go(`#/tenants/lab/runs/${sweep.runId}`, '[data-testid=timeline]')
    const detail = (await server.admin.send<any>('GET', `/v1/tenants/lab/runs/${sweep.runId}`)).body
    expect(await tab.page.locator('[data-testid=timeline-bar]').count()).toBe(detail.steps.length)
    expect(await tab.page.locator('[data-testid=child-link]').count()).toBe(LRS.length)
    expect(await tab.page.textContent('[data-testid=run-output]')).toContain('"tried": 4')
    await tab.screenshot('run-sweep')

    const child = detail.steps.find((step: { kind: string }) => step.kind === 'child').childRunId
    await tab.page.click(`[data-testid=child-link]:has-text("${child}")`)
    await tab.page.waitForSelector(`.breadcrumb :text("${child}")`)
    const train = (await server.admin.send<any>('GET', `/v1/tenants/lab/runs/${child}`)).body
    await tab.page.waitForSelector('[data-testid=timeline]')
    expect(await tab.page.locator('[data-testid=timeline-bar]').count()).toBe(train.steps.length)
    const epoch = train.steps.find((step: { name: string }) => step.name === 'warmup-epoch-1')
    await tab.page.click(`.timeline-row[data-seq="${epoch.seq}"]`)
    await tab.page.waitForSelector('[data-testid=step-panel] pre.json')
    const recorded = (await server.admin.send<any>('GET', `/v1/tenants/lab/runs/${child}/steps/${epoch.seq}`)).body.output
    expect(await tab.page.textContent('[data-testid=step-panel] pre.json')).toBe(JSON.stringify(recorded, null, 2))
    await tab.screenshot('run-train')
  })

  test('a query draws its chart: loss against epoch, one line per lr', async () => {
    const sql = 'SELECT epoch, loss, lr FROM metrics ORDER BY lr, epoch'
    await tab.go(`#/tenants/lab/data?sql=${encodeURIComponent(sql)}`, '[data-testid=chart] canvas')
    const rows = await tab.page.locator('[data-testid=result-table] tbody tr').count()
    expect(rows).toBe((LRS.length * 8) + 4)
    const legend = await tab.page.locator('[data-testid=chart] .u-legend .u-series').allTextContents()
    expect(legend.filter((label) => label.includes('lr='))).toHaveLength(LRS.length + 1)
    expect(await colouredPixels(tab.page, '[data-testid=chart] canvas')).toBeGreaterThan(500)
    await tab.screenshot('data-chart')
  })

  test('hibernate and wake from the UI', async () => {
    await tab.go('#/tenants/lab', '.tenant-header .badge')
    await tab.page.click('.tenant-header button:has-text("Hibernate")')
    await tab.page.click('dialog[open] button[type=submit]')
    await tab.page.waitForSelector('.tenant-header .badge-hibernated', { timeout: 30_000 })
    expect((await server.admin.send<any>('GET', '/v1/tenants/lab')).body.state).toBe('hibernated')
    await tab.page.waitForSelector('[data-testid=live]:has-text("asleep")')
    await tab.page.click('.tenant-header button:has-text("Wake")')
    await tab.page.waitForSelector('.tenant-header .badge-active', { timeout: 30_000 })
    expect((await server.admin.send<any>('GET', '/v1/tenants/lab')).body.state).toBe('active')
    await tab.page.waitForSelector('[data-testid=live]:has-text("live")')
    await tab.go('#/', 'tr[data-tenant=lab]')
    await tab.screenshot('tenants')
  })

  test('a tenant token sees only its own tenant', async () => {
    await server.admin.post<any>('/v1/tenants', { id: 'other' })
    const own = await openDashboard(browser.browser, server.url)
    await own.signIn(labToken)
    await own.page.waitForSelector('.tenant-header')
    expect(await own.page.textContent('[data-testid=who]')).toBe('tenant lab')
    expect(await own.page.evaluate('location.hash')).toBe('#/tenants/lab')
    expect(await own.page.locator('.topnav a').count()).toBe(0)
    expect(await own.page.locator('.tenant-header button:has-text("Delete")').count()).toBe(0)
    // Another tenant's page sends it back to its own; the API refuses it anyway.
    await own.page.evaluate("location.hash = '#/tenants/other'")
    await own.page.waitForFunction(() => (globalThis as unknown as { location: { hash: string } }).location.hash === '#/tenants/lab')
    const status = await own.page.evaluate(async (token) => {
      const response = await fetch('v1/tenants/other', { headers: { authorization: `Bearer ${token}` } })
      return response.status
    }, labToken)
    expect(status).toBe(403)
    await own.screenshot('tenant-token')
    await own.page.close()
  })

  test('tenant-supplied text renders as text and runs no script', async () => {
    await server.admin.post<any>('/v1/tenants', { id: 'xss', app: 'test', labels: { note: XSS } })
    const { runId } = await server.admin.post<any>('/v1/tenants/xss/runs', { workflow: 'write', input: { entry: XSS } })
    await waitFor(async () => (await server.admin.send<any>('GET', `/v1/tenants/xss/runs/${runId}`)).body.status === 'succeeded')
    await tab.go(`#/tenants/xss/runs/${runId}`, '[data-testid=run-output] pre')
    expect(await tab.page.textContent('[data-testid=run-output] pre')).toBe(JSON.stringify(XSS))
    await tab.go(`#/tenants/xss/data?sql=${encodeURIComponent('SELECT entry FROM ledger')}`, '[data-testid=result-table] td')
    expect(await tab.page.textContent('[data-testid=result-table] td')).toBe(XSS)
    await tab.go('#/?label=note%3D' + encodeURIComponent(XSS), 'tr[data-tenant=xss]')
    expect(await tab.page.textContent('tr[data-tenant=xss] .label')).toBe(`note=${XSS}`)
    expect(await tab.page.locator('img').count()).toBe(0)
    expect(tab.dialogs).toEqual([])
    expect(tab.errors).toEqual([])
    await tab.screenshot('xss-as-text')
  })
})
