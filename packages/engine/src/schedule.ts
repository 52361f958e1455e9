import { CronSchedule } from './cron-schedule.js'
import { invalidInput } from './engine-error.js'
import { toJsonText, type JsonValue } from './json.js'

/**
 * What a fire does while the run of the schedule's previous fire is unfinished: `skip` starts
 * nothing for it, `allow` starts a run anyway, `queue` starts it once the previous run ended
 * (fires queued meanwhile start one after another, in fire order).
 */
export type ScheduleOverlap = 'skip' | 'allow' | 'queue'

/**
 * Which fire times missed while the tenant was not running (hibernated with a wake that came
 * late, or a server that was down) start when the engine opens: `latest` the most recent one,
 * `all` each of them (the latest {@link MAX_OWED_FIRES}), `none` only those at most
 * {@link ON_TIME_GRACE_MS} old.
 */
export type ScheduleCatchUp = 'latest' | 'all' | 'none'

/** Every {@link ScheduleOverlap}, for validation. */
export const SCHEDULE_OVERLAPS: readonly ScheduleOverlap[] = ['skip', 'allow', 'queue']
/** Every {@link ScheduleCatchUp}, for validation. */
export const SCHEDULE_CATCH_UPS: readonly ScheduleCatchUp[] = ['latest', 'all', 'none']

/** Overlap unless a schedule says otherwise (Temporal's default too). */
export const DEFAULT_OVERLAP: ScheduleOverlap = 'skip'
/** Catch-up unless a schedule says otherwise. */
export const DEFAULT_CATCH_UP: ScheduleCatchUp = 'latest'
/**
 * Most fire times one schedule owes at once (missed ones with `catchUp: 'all'`, or ones
 * queued behind an unfinished run with `overlap: 'queue'`); older ones are skipped. A tenant
 * that slept through a year of a per-minute schedule starts 100 runs when it wakes, not half
 * a million.
 */
export const MAX_OWED_FIRES = 100
/**
 * How late a fire may start and still count as on time: the wake of a hibernated tenant for
 * its fire (the control plane's scheduler ticks every 500 ms, a restore from S3 takes a few
 * seconds on a busy machine) stays well inside it. Later fires are missed, see `catchUp`.
 */
export const ON_TIME_GRACE_MS = 60_000
/** Most fire times one backfill may start. */
export const MAX_BACKFILL_FIRES = 1_000
/** Schedule ids: they appear in URLs and in the idempotency keys of the runs they start. */
export const SCHEDULE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

/** A schedule as an app declares it in `defineApp({ schedules: { <id>: … } })`. */
export interface ScheduleDefinition {
  /** Cron text: 5 fields, or 6 with seconds first, or a nickname such as `@daily`. */
  readonly cron: string
  /** The workflow each fire starts. */
  readonly workflow: string
  /** The input of every run it starts. @default null */
  readonly input?: JsonValue
  /** IANA time zone the cron fields are read in. @default 'UTC' */
  readonly timezone?: string
  /** @default 'skip' */
  readonly overlap?: ScheduleOverlap
  /** @default 'latest' */
  readonly catchUp?: ScheduleCatchUp
}

/** A schedule created at run time (`engine.schedules.create`, the HTTP API). */
export interface ScheduleRequest extends ScheduleDefinition {
  /** Letters, digits, `-` and `_`, at most 64 characters. */
  readonly id: string
}

/** A schedule as the API shows it. Times are ISO strings. */
export interface ScheduleView {
  id: string
  /** `app` for schedules the app declares (synced at every open), `api` for created ones. */
  source: 'app' | 'api'
  cron: string
  timezone: string
  workflow: string
  input: JsonValue
  overlap: ScheduleOverlap
  catchUp: ScheduleCatchUp
  paused: boolean
  /** The next fire time this schedule will handle; `null` while paused or if it never fires again. */
  nextFireAt: string | null
  /** The latest fire time handled (started, queued behind a run, or skipped). */
  lastFireAt: string | null
  /** The run of the latest fire or trigger that started one. */
  lastRunId: string | null
  /** Why the latest fire could not start a run (e.g. its workflow left the app), if it could not. */
  lastError: string | null
  createdAt: string
  updatedAt: string
}

/** A schedule after validation: defaults filled in, input as JSON text. */
export interface ScheduleSpec {
  id: string
  cron: string
  timezone: string
  workflow: string
  input: string
  overlap: ScheduleOverlap
  catchUp: ScheduleCatchUp
}

/**
 * Checks a schedule (`what` names it in messages, e.g. `app.schedules.nightly`) and fills in
 * its defaults. Returns the parsed cron with it.
 *
 * @throws {EngineError} `INVALID_INPUT` for a bad id, cron text (with the parser's reason),
 *   time zone, overlap, catch-up or input. Whether the workflow exists is the caller's check.
 */
export function validateSchedule(
  id: unknown,
  definition: unknown,
  what: string,
  nowMs: number,
): { spec: ScheduleSpec; cron: CronSchedule } {
  if (typeof id !== 'string' || !SCHEDULE_ID.test(id)) {
    throw invalidInput(
      what === '' ? 'id' : `${what} id`,
      id,
      'letters, digits, `-` or `_` (at most 64, starting with a letter or digit)',
    )
  }
  if (typeof definition !== 'object' || definition === null || Array.isArray(definition)) {
    throw invalidInput(
      what === '' ? 'schedule' : what,
      definition,
      'an object with `cron` and `workflow`',
    )
  }
  const { cron, timezone, workflow, input, overlap, catchUp } = definition as Record<
    string,
    unknown
  >
  const parsed = new CronSchedule(cron, timezone ?? 'UTC', nowMs, what === '' ? '' : `${what}.`)
  if (typeof workflow !== 'string' || workflow === '') {
    throw invalidInput(field(what, 'workflow'), workflow, 'a workflow name')
  }
  if (overlap !== undefined && !SCHEDULE_OVERLAPS.includes(overlap as ScheduleOverlap)) {
    throw invalidInput(field(what, 'overlap'), overlap, `one of ${SCHEDULE_OVERLAPS.join(', ')}`)
  }
  if (catchUp !== undefined && !SCHEDULE_CATCH_UPS.includes(catchUp as ScheduleCatchUp)) {
    throw invalidInput(field(what, 'catchUp'), catchUp, `one of ${SCHEDULE_CATCH_UPS.join(', ')}`)
  }
  return {
    spec: {
      id,
      cron: parsed.cron,
      timezone: parsed.timezone,
      workflow,
      input: toJsonText(input ?? null, field(what, 'input')),
      overlap: (overlap as ScheduleOverlap | undefined) ?? DEFAULT_OVERLAP,
      catchUp: (catchUp as ScheduleCatchUp | undefined) ?? DEFAULT_CATCH_UP,
    },
    cron: parsed,
  }
}

function field(what: string, name: string): string {
  return what === '' ? name : `${what}.${name}`
}

/** The idempotency key of the run a schedule starts for one fire time. */
export function fireKey(scheduleId: string, fireAtMs: number): string {
  return `schedule:${scheduleId}:${new Date(fireAtMs).toISOString()}`
}
