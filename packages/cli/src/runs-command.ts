import { Command, Option } from 'commander'
import {
  RUN_STATUSES,
  apiPath,
  waitForRun,
  type RunDetail,
  type RunStatus,
} from '@litecell/client'
import { EXIT_CODES, usageError } from './cli-error.js'
import { contextOf } from './cli-context.js'
import { jsonFromArgumentOrFile } from './json-input.js'
import { collectLabel, duration, integerFrom } from './option-parsers.js'
import { formatTime } from './output.js'
import { BatchProgress } from './progress.js'
import {
  DEFAULT_CHUNK_RUNS,
  MAX_CHUNK_RUNS,
  submitBatch,
  type BatchSummary,
  type RunOptions,
} from './run-batch.js'
import { finishWait, printBatch, printRun } from './run-report.js'
import { watchCommand } from './run-watch.js'

/** Exit code after Ctrl-C, as shells report SIGINT (128 + 2). */
const INTERRUPTED_EXIT_CODE = 130

/**
 * `litecell runs …`: start runs (one, or a JSONL file of any size), list and inspect them,
 * wait for results, cancel, resume, fork and deliver events. Commands that wait exit 5 when
 * the run failed or was cancelled and 6 when the wait timed out.
 */
export function runsCommand(): Command {
  const runs = new Command('runs')
    .alias('run')
    .description('start, inspect and steer workflow runs')

  runs
    .command('start')
    .description('start a run; with --wait, wait for its result')
    .argument('<tenant>', 'tenant id')
    .argument('<workflow>', 'workflow name')
    .argument('[input]', 'input as JSON, e.g. \'{"n": 1}\'')
    .option('--input-file <file>', 'read the input JSON from a file (- for stdin)')
    .option('--idempotency-key <key>', 'same key, same run: a retried start creates nothing new')
    .option('--queue <name>', 'queue to run on')
    .option('--priority <n>', 'admission order in its queue: lower first (default 0)', PRIORITY)
    .option(
      '--deduplication-id <id>',
      'refuse the start (409 DUPLICATE_RUN) while a run with this id is unfinished',
    )
    .option('--partition-key <key>', 'partition of a queue with partitionConcurrency')
    .option('--tag <key=value>', 'a tag of the run (repeat for more)', collectLabel)
    .option('--run-timeout-ms <ms>', 'cancel the run if not ended this long after its start', integerFrom(1))
    .option('--debounce-key <key>', 'collapse starts with this key into one run (with --debounce-ms)')
    .option('--debounce-ms <ms>', 'the run starts this long after the last start of its key', integerFrom(1))
    .option('--wait', 'wait for the run to end and print its result')
    .option(
      '--timeout-ms <duration>',
      'with --wait: give up after this long, e.g. 30s or 30000 (exit 6)',
      duration,
    )
    .action(
      async (
        tenant: string,
        workflow: string,
        inputText: string | undefined,
        options: StartOptions,
        command: Command,
      ) => {
        const { client, output } = contextOf(command)
        const input = await jsonFromArgumentOrFile(inputText, options.inputFile, 'input')
        if ((options.debounceKey === undefined) !== (options.debounceMs === undefined)) {
          throw usageError('--debounce-key and --debounce-ms go together')
        }
        const started = await client.post<{ runId: string; status: string }>(
          apiPath('tenants', tenant, 'runs'),
          {
            workflow,
            input,
            idempotencyKey: options.idempotencyKey,
            ...flowOptions(options),
            deduplicationId: options.deduplicationId,
            debounce:
              options.debounceKey === undefined
                ? undefined
                : { key: options.debounceKey, delayMs: options.debounceMs },
          },
        )
        if (!options.wait) {
          output.result(started, () =>
            output.line(`started run ${started.runId} (${started.status})`),
          )
          return
        }
        if (!output.isJson) output.note(`started run ${started.runId}; waiting…`)
        const outcome = await waitForRun(client, tenant, started.runId, {
          timeoutMs: options.timeoutMs,
        })
        finishWait(output, outcome, options.timeoutMs)
      },
    )

  runs
    .command('batch')
    .description(
      'start one run per line of a JSONL file (any size, streamed in chunks) and wait for them',
    )
    .argument('<tenant>', 'tenant id')
    .argument('<workflow>', 'workflow name')
    .requiredOption('--inputs <file>', 'JSONL file: one run input (JSON) per line; - for stdin')
    .option(
      '--chunk <n>',
      `runs per request, 1 to ${MAX_CHUNK_RUNS}`,
      integerFrom(1, MAX_CHUNK_RUNS),
      DEFAULT_CHUNK_RUNS,
    )
    .option('--queue <name>', 'queue to run on')
    .option('--priority <n>', 'admission order of every run in its queue: lower first', PRIORITY)
    .option('--partition-key <key>', 'partition of every run (a queue with partitionConcurrency)')
    .option('--tag <key=value>', 'a tag of every run (repeat for more)', collectLabel)
    .option('--run-timeout-ms <ms>', 'cancel each run if not ended this long after its start', integerFrom(1))
    .option(
      '--idempotency-prefix <prefix>',
      'key each run <prefix><line number>: re-running the batch starts nothing twice',
    )
    .option('--no-wait', 'return once every run is submitted')
    .action(async (tenant: string, workflow: string, options: BatchOptions, command: Command) => {
      const { client, output } = contextOf(command)
      const progress = new BatchProgress({
        mode: BatchProgress.modeFor(output),
        waiting: options.wait,
      })
      let submitted = 0
      // Ctrl-C: restore the terminal (the bar hides the cursor) and say how far it got.
      const interrupt = () => {
        progress.stop(false)
        output.note(
          `litecell: interrupted after submitting ${submitted} runs${options.idempotencyPrefix ? '; re-run the same command to submit the rest (same keys, no duplicates)' : ''}`,
        )
        process.exit(INTERRUPTED_EXIT_CODE)
      }
      process.once('SIGINT', interrupt)
      let summary: BatchSummary
      let completed = false
      try {
        summary = await submitBatch({
          client,
          tenantId: tenant,
          workflow,
          path: options.inputs,
          chunkRuns: options.chunk,
          wait: options.wait,
          runOptions: flowOptions(options),
          idempotencyPrefix: options.idempotencyPrefix,
          onProgress: (counts) => {
            submitted = counts.submitted
            progress.update(counts)
          },
        })
        completed = true
      } finally {
        process.off('SIGINT', interrupt)
        progress.stop(completed)
      }
      output.result(summary, () => printBatch(output, summary))
      if (summary.failed + summary.cancelled > 0) process.exitCode = EXIT_CODES.RUN_FAILED
    })

  runs
    .command('list')
    .alias('ls')
    .description('list runs, newest first')
    .argument('<tenant>', 'tenant id')
    .addOption(
      new Option('--status <status>', 'only runs with this status').choices(RUN_STATUSES),
    )
    .option('--workflow <name>', 'only runs of this workflow')
    .option('--tag <key=value>', 'only runs with this tag (repeat: all of them)', collectLabel)
    .option('--limit <n>', 'runs per page, 1 to 1000 (server default 50)', integerFrom(1, 1000))
    .option('--cursor <cursor>', 'next page, from the previous page')
    .action(async (tenant: string, options: ListOptions, command: Command) => {
      const { client, output } = contextOf(command)
      const page = await client.listRuns(tenant, {
        status: options.status as RunStatus | undefined,
        workflow: options.workflow,
        tags: options.tag,
        limit: options.limit,
        cursor: options.cursor,
      })
      output.result(page, () => {
        // The tags column only when some run of the page has tags.
        const withTags = page.runs.some((run) => run.tags !== undefined)
        output.table(
          ['run', 'workflow', 'status', 'created', 'updated', ...(withTags ? ['tags'] : [])],
          page.runs.map((run) => [
            run.runId,
            run.workflow,
            run.status,
            formatTime(run.createdAt),
            formatTime(run.updatedAt),
            ...(withTags ? [formatTags(run.tags)] : []),
          ]),
          'no runs',
        )
        if (page.nextCursor)
          output.note(`more: litecell runs list ${tenant} --cursor ${page.nextCursor}`)
      })
    })

  runs
    .command('show')
    .description('show a run and its steps as a timeline')
    .argument('<tenant>', 'tenant id')
    .argument('<run>', 'run id (or a unique prefix of one)')
    .action(async (tenant: string, runId: string, _options: object, command: Command) => {
      const { client, output } = contextOf(command)
      const run = await client.get<RunDetail>(apiPath('tenants', tenant, 'runs', runId))
      output.result(run, () => printRun(output, run, tenant))
    })

  runs.addCommand(watchCommand())

  runs
    .command('wait')
    .description('wait for a run to end; exit 5 if it failed or was cancelled, 6 on timeout')
    .argument('<tenant>', 'tenant id')
    .argument('<run>', 'run id (or a unique prefix of one)')
    .option(
      '--timeout-ms <duration>',
      'give up after this long, e.g. 5s, 2m or 5000 (default: wait as long as it takes)',
      duration,
    )
    .action(
      async (tenant: string, runId: string, options: { timeoutMs?: number }, command: Command) => {
        const { client, output } = contextOf(command)
        finishWait(
          output,
          await waitForRun(client, tenant, runId, { timeoutMs: options.timeoutMs }),
          options.timeoutMs,
        )
      },
    )

  for (const [name, description] of [
    ['cancel', 'cancel a run (and its children)'],
    ['resume', 'resume a failed or cancelled run from its failed step'],
  ] as const) {
    runs
      .command(name)
      .description(description)
      .argument('<tenant>', 'tenant id')
      .argument('<run>', 'run id (or a unique prefix of one)')
      .action(async (tenant: string, runId: string, _options: object, command: Command) => {
        const { client, output } = contextOf(command)
        const run = await client.post<RunDetail>(apiPath('tenants', tenant, 'runs', runId, name))
        output.result(run, () => output.line(`run ${run.runId}: ${run.status}`))
      })
  }

  runs
    .command('fork')
    .description('start a new run that reuses the steps recorded before --from-step')
    .argument('<tenant>', 'tenant id')
    .argument('<run>', 'run id (or a unique prefix of one)')
    .requiredOption(
      '--from-step <seq>',
      'first step to run again (see `runs show`)',
      integerFrom(1),
    )
    .action(
      async (tenant: string, runId: string, options: { fromStep: number }, command: Command) => {
        const { client, output } = contextOf(command)
        const forked = await client.post<{ runId: string }>(
          apiPath('tenants', tenant, 'runs', runId, 'fork'),
          {
            fromStep: options.fromStep,
          },
        )
        output.result(forked, () =>
          output.line(`forked run ${runId} from step ${options.fromStep}: new run ${forked.runId}`),
        )
      },
    )

  runs
    .command('event')
    .description('deliver an event to a run waiting in ctx.waitForEvent')
    .argument('<tenant>', 'tenant id')
    .argument('<run>', 'run id (or a unique prefix of one)')
    .argument('<name>', 'event name')
    .argument('[payload]', 'payload as JSON')
    .option('--payload-file <file>', 'read the payload JSON from a file (- for stdin)')
    .action(
      async (
        tenant: string,
        runId: string,
        name: string,
        payloadText: string | undefined,
        options: { payloadFile?: string },
        command: Command,
      ) => {
        const { client, output } = contextOf(command)
        const payload = await jsonFromArgumentOrFile(payloadText, options.payloadFile, 'payload')
        const body = await client.post<unknown>(
          apiPath('tenants', tenant, 'runs', runId, 'events'),
          { name, payload },
        )
        output.result(body, () => output.line(`delivered event ${name} to run ${runId}`))
      },
    )

  return runs
}

/** Options of both `runs start` and `runs batch` that go into each run's request. */
interface RunFlowFlags {
  queue?: string
  priority?: number
  partitionKey?: string
  tag?: Record<string, string>
  runTimeoutMs?: number
}

interface StartOptions extends RunFlowFlags {
  inputFile?: string
  idempotencyKey?: string
  deduplicationId?: string
  debounceKey?: string
  debounceMs?: number
  wait?: boolean
  timeoutMs?: number
}

interface BatchOptions extends RunFlowFlags {
  inputs: string
  chunk: number
  idempotencyPrefix?: string
  wait: boolean
}

interface ListOptions {
  status?: string
  workflow?: string
  tag?: Record<string, string>
  limit?: number
  cursor?: string
}

/** `--priority`: an integer from −1,000,000 to 1,000,000 (the API's range). */
const PRIORITY = integerFrom(-1_000_000, 1_000_000)

/** The request fields of the flags every start shares (absent flags stay absent). */
function flowOptions(flags: RunFlowFlags): RunOptions {
  const options: RunOptions = {}
  if (flags.queue !== undefined) options.queue = flags.queue
  if (flags.priority !== undefined) options.priority = flags.priority
  if (flags.partitionKey !== undefined) options.partitionKey = flags.partitionKey
  if (flags.tag !== undefined) options.tags = flags.tag
  if (flags.runTimeoutMs !== undefined) options.timeoutMs = flags.runTimeoutMs
  return options
}

/** Tags as `k=v, k=v` for a table cell. */
function formatTags(tags: Record<string, string> | undefined): string {
  return Object.entries(tags ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(', ')
}
