import { traceRequests } from '@litecell/protocol'

/**
 * Middleware: one SERVER span per tenant API request, child of the proxy hop's span through
 * the `traceparent` header the control plane sends (see `traceRequests` in @litecell/protocol).
 */
export const traceWorkerRequests = () => traceRequests('@litecell/worker')
