/**
 * The Content-Security-Policy of every dashboard response. Scripts and styles come only from
 * this origin's bundle (no inline script, no `eval`), so even a tenant-supplied string that
 * slipped into the DOM as markup could not run; the API is the only place the page talks to.
 * Inline *style attributes* are allowed for nothing either: Preact and uPlot set styles
 * through the CSSOM (`element.style`), which CSP does not govern.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** Headers sent with every dashboard asset, besides its content type and caching. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
}
