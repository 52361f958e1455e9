import type { AppDefinition } from './app.js'
import { inputSchemaOf } from './workflow-definition.js'

/** One workflow of an app, as `GET /v1/tenants/:id/workflows` lists it. */
export interface WorkflowDescription {
  name: string
  /** Whether starts are checked against an input schema. */
  validatesInput: boolean
  /** The input's JSON Schema, when the schema can say (Standard JSON Schema); else null. */
  inputSchema: Record<string, unknown> | null
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
    let inputSchema: Record<string, unknown> | null = null
    try {
      inputSchema = schema?.['~standard'].jsonSchema?.input({ target: 'draft-2020-12' }) ?? null
    } catch {
      // The library cannot express this schema as JSON Schema: it still validates.
    }
    return { name, validatesInput: schema !== undefined, inputSchema }
  })
  const queues = Object.entries(app.queues ?? {}).map(([name, queue]): QueueDescription => ({
    name,
    concurrency: queue.concurrency,
    rateLimit: queue.rateLimit ? { limit: queue.rateLimit.limit, periodMs: queue.rateLimit.periodMs } : null,
  }))
  // Declared schedules (the schedules feature, issue 13): read by shape, so an app without them,
  // or an engine without that feature, lists none.
  const declared = (app as { schedules?: Readonly<Record<string, unknown>> }).schedules ?? {}
  const schedules = Object.entries(declared).flatMap(([name, value]): ScheduleDescription[] => {
    const schedule = value as { workflow?: unknown; cron?: unknown; timezone?: unknown }
    if (typeof schedule?.cron !== 'string' || typeof schedule.workflow !== 'string') return []
    const timezone = typeof schedule.timezone === 'string' ? schedule.timezone : null
    return [{ name, workflow: schedule.workflow, cron: schedule.cron, timezone }]
  })
  return { workflows: workflows.sort(byName), queues: queues.sort(byName), schedules: schedules.sort(byName) }
}
