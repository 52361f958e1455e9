import { resolve } from 'node:path'
import { Command } from 'commander'
import {
  apiPath,
  type CreatedTenant,
  type QueryResult,
  type TenantDetail,
  type TenantView,
} from '@litecell/client'
import { CliError } from './cli-error.js'
import { contextOf, type CliContext } from './cli-context.js'
import { confirmByTyping } from './confirm.js'
import { parseJsonArgument } from './json-input.js'
import { collectLabel, isoTime } from './option-parsers.js'
import { formatBytes, formatDuration, formatTime, formatValue, type Output } from './output.js'
import { downloadSnapshot } from './snapshot-download.js'

/**
 * `litecell tenants …`: create, list, show, hibernate, wake, upgrade, fork, delete, snapshot and query
 * tenants. Each subcommand is one API call, printed as a table or, with `--json`, as the body.
 */
export function tenantsCommand(): Command {
  const tenants = new Command('tenants')
    .alias('tenant')
    .description('create, inspect and manage tenants')

  tenants
    .command('create')
    .description('create a tenant (hibernated until first used) and print its token, once')
    .argument('[id]', 'tenant id, a slug (generated if absent)')
    .option('--app <name>', "app the tenant runs (default: the server's default app)")
    .option('--label <key=value>', 'label, repeatable', collectLabel)
    .action(
      async (
        id: string | undefined,
        options: { app?: string; label?: Record<string, string> },
        command: Command,
      ) => {
        const { client, output } = contextOf(command)
        const created = await client.post<CreatedTenant>(apiPath('tenants'), {
          id,
          app: options.app,
          labels: options.label,
        })
        output.result(created, () => printCreated(output, `created tenant ${created.id}`, created))
      },
    )

  tenants
    .command('list')
    .alias('ls')
    .description('list tenants')
    .action(async (_options: object, command: Command) => {
      const { client, output } = contextOf(command)
      const body = await client.get<{ tenants: TenantView[] }>(apiPath('tenants'))
      output.result(body, () =>
        output.table(
          ['id', 'app', 'state', 'labels', 'last active', 'next wake'],
          body.tenants.map((t) => [
            t.id,
            t.app,
            t.state,
            labelsText(t.labels),
            formatTime(t.lastActiveAt),
            formatTime(t.nextWakeAt),
          ]),
          'no tenants; create one with `litecell tenants create <id>`',
        ),
      )
    })

  tenants
    .command('show')
    .description('show a tenant: state, worker and restore points')
    .argument('<id>', 'tenant id')
    .action(async (id: string, _options: object, command: Command) => {
      const { client, output } = contextOf(command)
      const tenant = await client.get<TenantDetail>(apiPath('tenants', id))
      output.result(tenant, () => printTenant(output, tenant))
    })

  for (const [name, description] of [
    [
      'hibernate',
      "stop the tenant's worker after a verified final sync; its local files are removed",
    ],
    ['wake', "start the tenant's worker from its replica (also revives a failed tenant)"],
  ] as const) {
    tenants
      .command(name)
      .description(description)
      .argument('<id>', 'tenant id')
      .action(async (id: string, _options: object, command: Command) => {
        const { client, output } = contextOf(command)
        const startedAtMs = Date.now()
        const tenant = await client.post<TenantView>(apiPath('tenants', id, name))
        output.result(tenant, () =>
          output.line(
            `tenant ${tenant.id}: ${tenant.state} (${formatDuration(Date.now() - startedAtMs)})`,
          ),
        )
      })
  }

  tenants
    .command('upgrade')
    .description(
      "switch the tenant's app (or reload its changed code): hibernate at the next durable point, switch, wake; runs in flight continue under the new code",
    )
    .argument('<id>', 'tenant id')
    .option('--app <name>', 'app to switch to (default: its own app, with its current code)')
    .action(async (id: string, options: { app?: string }, command: Command) => {
      const { client, output } = contextOf(command)
      const startedAtMs = Date.now()
      const tenant = await client.upgradeTenant(id, options.app === undefined ? {} : { app: options.app })
      output.result(tenant, () =>
        output.line(
          `tenant ${tenant.id}: app ${tenant.app}, ${tenant.state} (${formatDuration(Date.now() - startedAtMs)})`,
        ),
      )
    })

  tenants
    .command('fork')
    .description("create a new tenant from this one's state, now or at an earlier time")
    .argument('<source>', 'tenant to fork')
    .argument('<new-id>', 'id of the new tenant')
    .option(
      '--at <iso-time>',
      'point in time to fork from (see `tenants show` for restore points)',
      isoTime,
    )
    .action(async (source: string, newId: string, options: { at?: string }, command: Command) => {
      const { client, output } = contextOf(command)
      const created = await client.post<CreatedTenant>(apiPath('tenants', source, 'fork'), {
        id: newId,
        at: options.at,
      })
      output.result(created, () =>
        printCreated(
          output,
          `forked tenant ${source} into ${created.id}${options.at ? ` as of ${options.at}` : ''}`,
          created,
        ),
      )
    })

  tenants
    .command('delete')
    .alias('rm')
    .description('delete a tenant, its local files and its replica (asks first unless --yes)')
    .argument('<id>', 'tenant id')
    .option('-y, --yes', 'do not ask (required when stdin is not a terminal)')
    .action(async (id: string, options: { yes?: boolean }, command: Command) => {
      const { client, output } = contextOf(command)
      if (!options.yes) {
        const confirmed = await confirmByTyping(
          `Delete tenant ${id}, its local files and its replica? This cannot be undone.`,
          id,
          '--yes',
        )
        if (!confirmed)
          throw new CliError('ABORTED', `delete tenant ${id}: not confirmed; nothing deleted`)
      }
      const body = await client.delete<{ id: string; deleted: boolean }>(apiPath('tenants', id))
      output.result(body, () => output.line(`deleted tenant ${id}`))
    })

  tenants.addCommand(snapshotCommand())
  tenants.addCommand(queryCommand())
  return tenants
}

/** `snapshot <id> -o file.db`: also mounted at the top level. */
export function snapshotCommand(): Command {
  return new Command('snapshot')
    .description("download a consistent copy of the tenant's SQLite file")
    .argument('<id>', 'tenant id')
    .option(
      '-o, --output <file>',
      'file to write, replaced atomically; - for stdout (default: <id>.db)',
    )
    .action(async (id: string, options: { output?: string }, command: Command) => {
      const { client, output } = contextOf(command)
      // Relative to the folder the command runs in; the absolute path is what it reports.
      const target = options.output === '-' ? '-' : resolve(options.output ?? `${id}.db`)
      const file = await downloadSnapshot(client, id, target)
      if (file.path === '-') return
      output.result(file, () =>
        output.line(`wrote ${formatBytes(file.bytes)} snapshot of ${id} to ${file.path}`),
      )
    })
}

/** `query <id> "SELECT …"`: also mounted at the top level. */
export function queryCommand(): Command {
  return new Command('query')
    .description("run read-only SQL on the tenant's database and print the rows")
    .argument('<id>', 'tenant id')
    .argument('<sql>', 'one SQL statement (writes are refused)')
    .option('--args <json>', 'bind parameters: a JSON array (?) or object (:name)')
    .action(async (id: string, sql: string, options: { args?: string }, command: Command) => {
      const context = contextOf(command)
      const args =
        options.args === undefined ? undefined : parseJsonArgument(options.args, '--args')
      await printQuery(context, id, sql, args)
    })
}

async function printQuery(
  context: CliContext,
  id: string,
  sql: string,
  args: unknown,
): Promise<void> {
  const { client, output } = context
  const result = await client.post<QueryResult>(apiPath('tenants', id, 'query'), { sql, args })
  output.result(result, () => {
    output.table(
      result.columns,
      result.rows.map((row) => result.columns.map((column) => formatValue(row[column]))),
      '(no rows)',
    )
    const count = `${result.rows.length} row${result.rows.length === 1 ? '' : 's'}`
    output.note(
      result.truncated ? `(${count}; truncated by the server's row or time limit)` : `(${count})`,
    )
  })
}

function printCreated(output: Output, headline: string, created: CreatedTenant): void {
  output.line(`${headline} (${created.state})`)
  output.line('token (shown only this once; store it now):')
  output.line(`  ${created.token}`)
}

function printTenant(output: Output, tenant: TenantDetail): void {
  const worker = tenant.worker
  output.fields([
    ['id', tenant.id],
    ['app', tenant.app],
    ['state', tenant.failureReason ? `${tenant.state} (${tenant.failureReason})` : tenant.state],
    ['labels', labelsText(tenant.labels) || '-'],
    ['created', formatTime(tenant.createdAt)],
    ['last active', formatTime(tenant.lastActiveAt)],
    ['next wake', formatTime(tenant.nextWakeAt)],
    [
      'worker',
      worker
        ? `pid ${worker.pid ?? '-'}, epoch ${worker.epoch}, since ${formatTime(worker.startedAt)}`
        : '-',
    ],
    ['restore points', restorePointsText(tenant.replica)],
  ])
}

function restorePointsText(replica: TenantDetail['replica']): string {
  if (!replica) return '-'
  if ('error' in replica) return `unavailable (${replica.error})`
  if (replica.generations.length === 0) return 'none yet'
  const snapshots = replica.generations.reduce((sum, g) => sum + g.snapshots.length, 0)
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  return `${plural(replica.generations.length, 'generation')}, ${plural(snapshots, 'snapshot')}, from ${formatTime(replica.earliestAt)} to ${formatTime(replica.latestAt)}`
}

function labelsText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',')
}
