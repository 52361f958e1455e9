import { z } from 'zod'
import { text } from './body-parser.js'

/**
 * Schedule bodies. The engine validates schedules itself (the same rules serve schedules an
 * app declares: cron text and time zones through croner, `INVALID_INPUT` with the parser's
 * reason), so {@link CreateScheduleBody} and {@link BackfillScheduleBody} document that
 * contract rather than checking it (the engine's `INVALID_INPUT` quotes a bad time); a trigger's
 * body is checked with its schema.
 */
export const CreateScheduleBody = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/)
    .meta({ description: 'Letters, digits, `-` and `_`, at most 64 characters.' }),
  cron: z.string().meta({
    description: 'Cron text: 5 fields, 6 with seconds first, or a nickname such as `@daily`.',
  }),
  workflow: z.string().min(1),
  input: z
    .unknown()
    .optional()
    .meta({ description: 'The input of every run it starts (null if absent).' }),
  timezone: z
    .string()
    .optional()
    .meta({ description: 'IANA time zone the cron fields are read in (UTC if absent).' }),
  overlap: z
    .enum(['skip', 'allow', 'queue'])
    .optional()
    .meta({ description: 'While a run it started is still going (skip if absent).' }),
  catchUp: z
    .enum(['latest', 'all', 'none'])
    .optional()
    .meta({ description: 'Fires missed while the tenant could not run (latest if absent).' }),
})

/** `POST …/schedules/:sid/trigger`. */
export const TriggerScheduleBody = z.object({ idempotencyKey: text(512).optional() })

/** `POST …/schedules/:sid/backfill`: one run per fire time in [from, to). */
export const BackfillScheduleBody = z.object({
  from: z.string({ error: 'an ISO-8601 time' }).meta({ format: 'date-time' }),
  to: z.string({ error: 'an ISO-8601 time' }).meta({ format: 'date-time' }),
})
