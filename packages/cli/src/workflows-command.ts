import { Command } from 'commander'
import { contextOf } from './cli-context.js'
import { formatDuration } from './output.js'

/**
 * `litecell workflows <tenant>`: what the tenant's app offers (`GET /v1/tenants/:id/workflows`):
 * its workflows (and whether their input is checked by a schema), queues and declared
 * schedules. `--json` prints the API body, input JSON Schemas included.
 */
export function workflowsCommand(): Command {
  return new Command('workflows')
    .description("list the workflows, queues and schedules of a tenant's app")
    .argument('<tenant>', 'tenant id')
    .action(async (tenant: string, _options: object, command: Command) => {
      const { client, output } = contextOf(command)
      const app = await client.listWorkflows(tenant)
      output.result(app, () => {
        output.table(
          ['workflow', 'input'],
          app.workflows.map((workflow) => [
            workflow.name,
            workflow.inputSchema
              ? fieldsOf(workflow.inputSchema)
              : workflow.validatesInput
                ? 'checked by a schema'
                : 'any JSON',
          ]),
          '(no workflows)',
        )
        if (app.queues.length > 0) {
          output.line()
          output.table(
            ['queue', 'concurrency', 'rate limit'],
            app.queues.map((queue) => [
              queue.name,
              queue.concurrency,
              queue.rateLimit ? `${queue.rateLimit.limit} per ${formatDuration(queue.rateLimit.periodMs)}` : '-',
            ]),
          )
        }
        if (app.schedules.length > 0) {
          output.line()
          output.table(
            ['schedule', 'workflow', 'cron', 'timezone'],
            app.schedules.map((schedule) => [schedule.name, schedule.workflow, schedule.cron, schedule.timezone ?? 'UTC']),
          )
        }
      })
    })
}

/** An object schema's fields as `lr: number, epochs?: integer`; other schemas by their type. */
function fieldsOf(schema: Record<string, unknown>): string {
  const properties = schema.properties as Record<string, { type?: unknown }> | undefined
  if (schema.type !== 'object' || !properties) return typeof schema.type === 'string' ? schema.type : 'checked by a schema'
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : [])
  return Object.entries(properties)
    .map(([name, property]) => `${name}${required.has(name) ? '' : '?'}: ${typeof property.type === 'string' ? property.type : 'any'}`)
    .join(', ')
}
