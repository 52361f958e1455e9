import { OPERATION_ROUTES } from './operation-routes.js'
import type { ApiRoute } from './route-types.js'
import { RUN_ROUTES } from './run-routes.js'
import { SCHEDULE_AND_DATA_ROUTES } from './schedule-and-data-routes.js'
import { TENANT_ROUTES } from './tenant-routes.js'

export type { ApiRoute, QueryParam, RouteAuth } from './route-types.js'

/**
 * Every route the server answers, grouped as the README lists them. A test checks that
 * every route the control plane and the worker register is here, so a new route without an
 * entry fails the build.
 */
export const API_ROUTES: readonly ApiRoute[] = [
  ...OPERATION_ROUTES,
  ...TENANT_ROUTES,
  ...RUN_ROUTES,
  ...SCHEDULE_AND_DATA_ROUTES,
]
