import { z } from 'zod'
import { integer, text } from './body-parser.js'

/** Most runs one batch may start (the control plane also caps bodies at 1 MiB). */
export const MAX_BATCH_RUNS = 10_000

/** Any JSON value: a run's input, an event's payload. */
const Json = z.unknown().meta({ description: 'Any JSON value.' })

/** `POST /v1/tenants/:id/runs`, and each run of a batch. */
export const StartRunBody = z.object(
  {
    workflow: text().meta({ description: "A workflow of the tenant's app." }),
    input: Json.optional().meta({
      description:
        "The run's input (null if absent), checked by the workflow's schema if it has one.",
    }),
    idempotencyKey: text(512).optional().meta({
      description:
        'A second start with the same key returns the first run instead of starting another.',
    }),
    queue: text().optional().meta({ description: "One of the app's queues." }),
  },
  { error: 'an object' },
)

/** `POST /v1/tenants/:id/runs/batch`: all runs start in one commit, or none. */
export const StartRunsBody = z.object({
  runs: z
    .array(StartRunBody, { error: `an array of 1 to ${MAX_BATCH_RUNS} runs` })
    .min(1, { error: `an array of 1 to ${MAX_BATCH_RUNS} runs` })
    .max(MAX_BATCH_RUNS, { error: `an array of 1 to ${MAX_BATCH_RUNS} runs` }),
})

/** `POST /v1/tenants/:id/runs/:runId/events`. */
export const SendEventBody = z.object({
  name: text().meta({ description: 'The event a run waits for (`ctx.waitForEvent(name)`).' }),
  payload: Json.optional(),
})

/** `POST /v1/tenants/:id/runs/:runId/fork`. */
export const ForkRunBody = z.object({
  fromStep: integer(0, Number.MAX_SAFE_INTEGER).meta({
    description: 'Steps before this one are reused; it and the rest run again.',
  }),
})

/** `POST /v1/tenants/:id/query`: read-only SQL. */
export const QueryBody = z.object({
  sql: text(100_000),
  args: z
    .union([z.array(z.unknown()), z.record(z.string(), z.unknown())], {
      error: 'an array or object',
    })
    .optional()
    .meta({ description: 'Positional (`?`) or named (`:name`) arguments.' }),
})

/** A start body as {@link StartRunBody} returns it. */
export type StartRunFields = z.output<typeof StartRunBody>
