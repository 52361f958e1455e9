/**
 * The API's request bodies as zod schemas: the routes check bodies with them
 * ({@link parseBody}) and the OpenAPI document (`GET /openapi.json`) is generated from them.
 */
export { parseBody } from './body-parser.js'
export {
  CreateTenantBody,
  DurabilitySchema,
  ForkTenantBody,
  UpdateTenantBody,
  UpgradeTenantBody,
} from './tenant-bodies.js'
export {
  ForkRunBody,
  RunWriteBody,
  MAX_STATUS_RUN_IDS,
  QueryBody,
  RunStatusesBody,
  SendEventBody,
  StartRunBody,
  StartRunsBody,
} from './run-bodies.js'
export type { StartRunFields } from './run-bodies.js'
export { BackfillScheduleBody, CreateScheduleBody, TriggerScheduleBody } from './schedule-bodies.js'
