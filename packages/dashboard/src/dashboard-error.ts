/** Stable, public error codes of the dashboard package. */
export type DashboardErrorCode = 'DASHBOARD_BUILD_FAILED'

/** Base error of the dashboard package: a stable `code` plus the `cause` it wraps. */
export class DashboardError extends Error {
  override name = 'DashboardError'
  readonly code: DashboardErrorCode

  constructor(code: DashboardErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
