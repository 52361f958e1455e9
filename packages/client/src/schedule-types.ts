import type { JsonValue } from './api-types.js'

/** What a fire does while the run of the schedule's previous fire is unfinished. */
export type ScheduleOverlap = 'skip' | 'allow' | 'queue'
/** Which fires missed while the tenant was not running start on its next wake. */
export type ScheduleCatchUp = 'latest' | 'all' | 'none'

/** `POST /v1/tenants/:id/schedules`. */
export interface CreateScheduleRequest {
  /** Letters, digits, `-` and `_`, at most 64 characters. */
  id: string
  /** 5 fields, or 6 with seconds first, or a nickname such as `@daily`. */
  cron: string
  workflow: string
  input?: JsonValue
  /** IANA time zone the cron fields are read in. @default 'UTC' */
  timezone?: string
  /** @default 'skip' */
  overlap?: ScheduleOverlap
  /** @default 'latest' */
  catchUp?: ScheduleCatchUp
}

/** A schedule as the API shows it. Times are ISO strings. */
export interface ScheduleView {
  id: string
  /** `app`: declared by the tenant's app (synced at every wake); `api`: created at run time. */
  source: 'app' | 'api'
  cron: string
  timezone: string
  workflow: string
  input: JsonValue
  overlap: ScheduleOverlap
  catchUp: ScheduleCatchUp
  paused: boolean
  /** The next fire time it handles; null while paused or if it never fires again. */
  nextFireAt: string | null
  lastFireAt: string | null
  /** The run of the latest fire or trigger that started one. */
  lastRunId: string | null
  /** Why the latest fire could not start a run, if it could not. */
  lastError: string | null
  createdAt: string
  updatedAt: string
}

/** `POST /v1/tenants/:id/schedules/:sid/backfill`: fire times in [from, to). */
export interface BackfillRequest {
  /** ISO 8601 time. */
  from: string
  /** ISO 8601 time; fire times later than now are left to the schedule. */
  to: string
}
