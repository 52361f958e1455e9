/** The dashboard's browser tests' harness: a headless Chromium and a tab on the dashboard. */
export { CHROMIUM_CANDIDATES, chromiumPath, launchBrowser } from './browser.js'
export type { TestBrowser } from './browser.js'
export { SCREENSHOT_DIR, colouredPixels, openDashboard } from './dashboard-page.js'
export type { DashboardTab } from './dashboard-page.js'
