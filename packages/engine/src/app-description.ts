import type { AppDefinition } from './app.js'
import type { JsonValue } from './json.js'
import { inputSchemaOf } from './workflow-definition.js'

/** One workflow of an app, as `GET /v1/tenants/:id/workflows` lists it. */
export interface WorkflowDescription {
  name: string
  /** Whether starts are checked against an input schema. */
  validatesInput: boolean
  /** The input's JSON Schema, when the schema can say (Standard JSON Schema); else null. */
  inputSchema: Record<string, JsonValue> | null
}

/** One queue of an app. */
export interface QueueDescription {
  name: string
  concurrency: number
  rateLimit: { limit: number; periodMs: number } | null
}

/** One schedule the app declares (schedules made through the API are listed by their route). */
export interface ScheduleDescription {
  name: string
  workflow: string
  cron: string
  timezone: string | null
}

/** What an app offers: its workflows, queues and declared schedules, each sorted by name. */
export interface AppDescription {
  workflows: WorkflowDescription[]
  queues: QueueDescription[]
  schedules: ScheduleDescription[]
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name)

/** Describes an app for people and tools (`Engine.describe`). */
export function describeApp(app: AppDefinition): AppDescription {
  const workflows = Object.entries(app.workflows).map(([name, entry]): WorkflowDescription => {
    const schema = inputSchemaOf(entry)
    let inputSchema: Record<string, JsonValue> | null = null
    try {
      // A JSON Schema is JSON (the API sends it as such).
      inputSchema =
        (schema?.['~standard'].jsonSchema?.input({ target: 'draft-2020-12' }) as
          Record<string, JsonValue> | undefined) ?? null
    } catch {
      // The library cannot express this schema as JSON Schema: it still validates.
    }
    return { name, validatesInput: schema !== undefined, inputSchema }
  })
  const queues = Object.entries(app.queues ?? {}).map(([name, queue]): QueueDescription => ({
    name,
    concurrency: queue.concurrency,
    rateLimit: queue.rateLimit
      ? { limit: queue.rateLimit.limit, periodMs: queue.rateLimit.periodMs }
      : null,
  }))
  // Validated by defineApp: no shape to check here.
  const schedules = Object.entries(app.schedules ?? {}).map(
    ([name, schedule]): ScheduleDescription => ({
      name,
      workflow: schedule.workflow,
      cron: schedule.cron,
      timezone: schedule.timezone ?? null,
    }),
  )
  return {
    workflows: workflows.sort(byName),
    queues: queues.sort(byName),
    schedules: schedules.sort(byName),
  }
}
