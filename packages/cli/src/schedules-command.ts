import { Command } from 'commander'
import type { ScheduleCatchUp, ScheduleOverlap, ScheduleView } from '@litecell/client'
import { contextOf } from './cli-context.js'
import { usageError } from './cli-error.js'
import { parseJsonArgument } from './json-input.js'
import { isoTime } from './option-parsers.js'
import { formatTime, formatValue, type Output } from './output.js'

const OVERLAPS: readonly ScheduleOverlap[] = ['skip', 'allow', 'queue']
const CATCH_UPS: readonly ScheduleCatchUp[] = ['latest', 'all', 'none']

function oneOf<T extends string>(values: readonly T[], what: string): (value: string) => T {
  return (value) => {
    if ((values as readonly string[]).includes(value)) return value as T
    throw usageError(`Expected ${what} to be one of ${values.join(', ')}, got \`${value}\``)
  }
}

/**
 * `litecell schedules …`: a tenant's cron schedules (list, show, create, pause, resume,
 * trigger, backfill, delete). Each subcommand is one API call; the server checks the cron text
 * and time zone and says what is wrong with them.
 */
export function schedulesCommand(): Command {
  const schedules = new Command('schedules')
    .alias('schedule')
    .description("manage a tenant's cron schedules (they wake the tenant when they fire)")

  schedules
    .command('list')
    .alias('ls')
    .description("list a tenant's schedules with their next fire time")
    .argument('<tenant>', 'tenant id')
    .action(async (tenant: string, _options: object, command: Command) => {
      const { client, output } = contextOf(command)
      const list = await client.listSchedules(tenant)
      output.result({ schedules: list }, () =>
        output.table(
          ['id', 'cron', 'timezone', 'workflow', 'overlap', 'catch-up', 'next fire', 'last run'],
          list.map((s) => [
            s.paused ? `${s.id} (paused)` : s.id,
            s.cron,
            s.timezone,
            s.workflow,
            s.overlap,
            s.catchUp,
            formatTime(s.nextFireAt),
            s.lastRunId ?? '-',
          ]),
          `no schedules; create one with \`litecell schedules create ${tenant} <id> '<cron>' <workflow>\``,
        ),
      )
    })

  schedules
    .command('show')
    .description('show one schedule')
    .argument('<tenant>', 'tenant id')
    .argument('<id>', 'schedule id')
    .action(async (tenant: string, id: string, _options: object, command: Command) => {
      const { client, output } = contextOf(command)
      const schedule = await client.getSchedule(tenant, id)
      output.result(schedule, () => printSchedule(output, schedule))
    })

  schedules
    .command('create')
    .description('create a schedule: each fire starts one run of the workflow')
    .argument('<tenant>', 'tenant id')
    .argument('<id>', 'schedule id (letters, digits, - and _)')
    .argument('<cron>', "cron text, quoted: '0 3 * * *' (5 fields, or 6 with seconds first)")
    .argument('<workflow>', 'workflow each fire starts')
    .argument('[input]', 'JSON input of every run')
    .option('--timezone <zone>', 'IANA time zone the cron is read in (default UTC)')
    .option(
      '--overlap <mode>',
      `while the previous run is unfinished: ${OVERLAPS.join(', ')} (default skip)`,
      oneOf(OVERLAPS, '--overlap'),
    )
    .option(
      '--catch-up <mode>',
      `fires missed while down: ${CATCH_UPS.join(', ')} (default latest)`,
      oneOf(CATCH_UPS, '--catch-up'),
    )
    .action(
      async (
        tenant: string,
        id: string,
        cron: string,
        workflow: string,
        input: string | undefined,
        options: { timezone?: string; overlap?: ScheduleOverlap; catchUp?: ScheduleCatchUp },
        command: Command,
      ) => {
        const { client, output } = contextOf(command)
        const schedule = await client.createSchedule(tenant, {
          id,
          cron,
          workflow,
          ...(input === undefined ? {} : { input: parseJsonArgument(input, 'the input') }),
          ...(options.timezone === undefined ? {} : { timezone: options.timezone }),
          ...(options.overlap === undefined ? {} : { overlap: options.overlap }),
          ...(options.catchUp === undefined ? {} : { catchUp: options.catchUp }),
        })
        output.result(schedule, () =>
          output.line(
            `created schedule ${schedule.id}: next fire ${formatTime(schedule.nextFireAt)}`,
          ),
        )
      },
    )

  for (const [name, description] of [
    ['pause', 'stop firing (queued fires are dropped)'],
    ['resume', 'fire again, from the first fire time after now'],
  ] as const) {
    schedules
      .command(name)
      .description(description)
      .argument('<tenant>', 'tenant id')
      .argument('<id>', 'schedule id')
      .action(async (tenant: string, id: string, _options: object, command: Command) => {
        const { client, output } = contextOf(command)
        const schedule =
          name === 'pause'
            ? await client.pauseSchedule(tenant, id)
            : await client.resumeSchedule(tenant, id)
        output.result(schedule, () =>
          output.line(
            `schedule ${id}: ${schedule.paused ? 'paused' : `next fire ${formatTime(schedule.nextFireAt)}`}`,
          ),
        )
      })
  }

  schedules
    .command('trigger')
    .description('start one run of the schedule now')
    .argument('<tenant>', 'tenant id')
    .argument('<id>', 'schedule id')
    .action(async (tenant: string, id: string, _options: object, command: Command) => {
      const { client, output } = contextOf(command)
      const started = await client.triggerSchedule(tenant, id)
      output.result(started, () => output.line(`started run ${started.runId}`))
    })

  schedules
    .command('backfill')
    .description('start a run for every fire time in [from, to) up to now, each once')
    .argument('<tenant>', 'tenant id')
    .argument('<id>', 'schedule id')
    .requiredOption('--from <iso-time>', 'first fire time to consider', isoTime)
    .requiredOption('--to <iso-time>', 'end of the range (excluded)', isoTime)
    .action(
      async (
        tenant: string,
        id: string,
        options: { from: string; to: string },
        command: Command,
      ) => {
        const { client, output } = contextOf(command)
        const { runIds } = await client.backfillSchedule(tenant, id, options)
        output.result({ runIds }, () =>
          output.line(
            `${runIds.length} runs for the fire times in [${options.from}, ${options.to})`,
          ),
        )
      },
    )

  schedules
    .command('delete')
    .alias('rm')
    .description('delete a schedule created through the API (the runs it started stay)')
    .argument('<tenant>', 'tenant id')
    .argument('<id>', 'schedule id')
    .action(async (tenant: string, id: string, _options: object, command: Command) => {
      const { client, output } = contextOf(command)
      const body = await client.deleteSchedule(tenant, id)
      output.result(body, () => output.line(`deleted schedule ${id}`))
    })

  return schedules
}

function printSchedule(output: Output, s: ScheduleView): void {
  output.fields([
    ['id', s.id],
    ['source', s.source],
    ['cron', `${s.cron} (${s.timezone})`],
    ['workflow', s.workflow],
    ['input', formatValue(s.input)],
    ['overlap', s.overlap],
    ['catch-up', s.catchUp],
    ['paused', s.paused ? 'yes' : 'no'],
    ['next fire', formatTime(s.nextFireAt)],
    ['last fire', formatTime(s.lastFireAt)],
    ['last run', s.lastRunId ?? '-'],
    ...(s.lastError === null ? [] : ([['last error', s.lastError]] as const)),
  ])
}
