/** The public surface of `@litecell/dashboard`: the built web UI the control plane serves at `/`. */
export { DashboardAssets, DEFAULT_CACHE_DIR, sourceFingerprint } from './dashboard-assets.js'
export type { DashboardAsset } from './dashboard-assets.js'
export { buildDashboard, UI_DIR } from './dashboard-build.js'
export type { DashboardFile } from './dashboard-build.js'
export { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from './content-security-policy.js'
export { DashboardError } from './dashboard-error.js'
export type { DashboardErrorCode } from './dashboard-error.js'
