import { z } from 'zod'
import { integer, text } from './body-parser.js'
import { DurabilitySchema } from './tenant-bodies.js'

/** Most runs one batch may start (the control plane also caps bodies at 1 MiB). */
export const MAX_BATCH_RUNS = 10_000

/** Any JSON value: a run's input, an event's payload. */
const Json = z.unknown().meta({ description: 'Any JSON value.' })

/**
 * A start option the engine validates itself (its messages quote the value and the limits,
 * with its own codes): the schema passes it through and documents its JSON type.
 */
function engineChecked(json: Record<string, unknown>) {
  return z.unknown().optional().meta(json)
}

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
    priority: engineChecked({
      type: 'integer',
      minimum: -1_000_000,
      maximum: 1_000_000,
      description: 'Admission order within the queue: lower first (default 0).',
    }),
    deduplicationId: engineChecked({
      type: 'string',
      description: 'While a run with this id is unfinished, another start is 409 DUPLICATE_RUN.',
    }),
    partitionKey: engineChecked({
      type: 'string',
      description: 'The partition of a queue that declares partitionConcurrency.',
    }),
    tags: engineChecked({
      type: 'object',
      additionalProperties: { type: 'string' },
      description: "The run's tags (at most 16).",
    }),
    timeoutMs: engineChecked({
      type: 'integer',
      minimum: 1,
      description: 'The run is cancelled if not ended this long after its start.',
    }),
    durability: DurabilitySchema,
    debounce: engineChecked({
      type: 'object',
      required: ['key', 'delayMs'],
      properties: { key: { type: 'string' }, delayMs: { type: 'integer' } },
      description: 'Starts with the same key within delayMs become one run with the last input.',
    }),
  },
  { error: 'an object' },
)

/** `POST /v1/tenants/:id/runs/batch`: all runs start in one commit, or none. */
export const StartRunsBody = z.object({
  durability: DurabilitySchema,
  runs: z
    .array(StartRunBody, { error: `an array of 1 to ${MAX_BATCH_RUNS} runs` })
    .min(1, { error: `an array of 1 to ${MAX_BATCH_RUNS} runs` })
    .max(MAX_BATCH_RUNS, { error: `an array of 1 to ${MAX_BATCH_RUNS} runs` }),
})

/** `POST /v1/tenants/:id/runs/:runId/events`. */
export const SendEventBody = z.object({
  name: text().meta({ description: 'The event a run waits for (`ctx.waitForEvent(name)`).' }),
  payload: Json.optional(),
  durability: DurabilitySchema,
})

/** `POST /v1/tenants/:id/runs/:runId/fork`. */
export const ForkRunBody = z.object({
  fromStep: integer(0, Number.MAX_SAFE_INTEGER).meta({
    description: 'Steps before this one are reused; it and the rest run again.',
  }),
  durability: DurabilitySchema,
})

/** `POST /v1/tenants/:id/runs/:runId/cancel` and `…/resume`: an optional body. */
export const RunWriteBody = z.object({ durability: DurabilitySchema })

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

/** Most runs one bulk status request may name (the engine's own limit; a test pins them). */
export const MAX_STATUS_RUN_IDS = 1_000

/** `POST /v1/tenants/:id/runs/status`: the engine checks each id. */
export const RunStatusesBody = z.object({
  runIds: z
    .array(z.unknown().meta({ type: 'string' }), {
      error: `an array of 1 to ${MAX_STATUS_RUN_IDS} run ids`,
    })
    .min(1, { error: `an array of 1 to ${MAX_STATUS_RUN_IDS} run ids` })
    .max(MAX_STATUS_RUN_IDS, { error: `an array of 1 to ${MAX_STATUS_RUN_IDS} run ids` }),
})
