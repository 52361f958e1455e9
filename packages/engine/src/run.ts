import type { JsonValue } from './json.js'
import type { RunWait } from './run-lookup.js'

/** A run's lifecycle state, as in the HTTP API. */
export type RunStatus =
  'pending' | 'running' | 'sleeping' | 'waiting' | 'succeeded' | 'failed' | 'cancelled'

/** Every {@link RunStatus}, for validation. */
export const RUN_STATUSES: readonly RunStatus[] = [
  'pending',
  'running',
  'sleeping',
  'waiting',
  'succeeded',
  'failed',
  'cancelled',
]

/** Statuses a run never leaves on its own (only `resume` leaves `failed` / `cancelled`). */
export function isFinished(status: RunStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled'
}

/** The state of one journal entry (one `ctx` call) of a run. */
export type StepStatus = 'running' | 'retrying' | 'sleeping' | 'waiting' | 'succeeded' | 'failed'

/** Which `ctx` call a journal entry records. */
export type StepKind =
  'step' | 'transaction' | 'sleep' | 'event' | 'child' | 'result' | 'now' | 'random' | 'uuid' | 'patch'

/** The recorded error of a failed run or step. */
export interface RunError {
  name: string
  message: string
  code?: string
}

/** One `ctx` call of a run, as returned by {@link RunDetail}. Times are ISO strings. */
export interface StepRecord {
  /** Position of the call in the run, from 1. */
  seq: number
  name: string
  kind: StepKind
  status: StepStatus
  /** How many times the call's function ran (0 for calls that run no user code). */
  attempts: number
  startedAt: string
  endedAt: string | null
  /** The run a `child` call started (links a parent's journal to its children). */
  childRunId?: string
}

/** One journal entry with what it recorded, as returned by `Engine.step`. */
export interface StepDetail extends StepRecord {
  /** The recorded result: a step's return value, a sleep's wake time, an event's payload, a child's id or output. */
  output: JsonValue
  error: RunError | null
}

/** A run without its payloads and steps, as listed. */
export interface RunSummary {
  runId: string
  workflow: string
  status: RunStatus
  /** The queue the run executes on; `null` is the engine's default queue. */
  queue: string | null
  parentRunId?: string
  /** Admission order within its queue: lower first; absent when 0 (the default). */
  priority?: number
  /** The partition of its queue whose concurrency it counts against. */
  partitionKey?: string
  /** Unique among unfinished runs; see {@link StartOptions.deduplicationId}. */
  deduplicationId?: string
  /** The debounce key whose burst of starts this run collected. */
  debounceKey?: string
  /** The run's attributes, as started. */
  tags?: Record<string, string>
  /** When the run is cancelled unless it ended (ISO time), from its `timeoutMs`. */
  deadlineAt?: string
  /** A child run that its parent's cancellation does not reach. */
  detached?: true
  createdAt: string
  updatedAt: string
}

/** Everything about one run. */
export interface RunDetail extends RunSummary {
  input: JsonValue
  /** The workflow's return value once `succeeded`, else `null`. */
  output: JsonValue
  error: RunError | null
  /** The app version the run started under (`null` for runs of older engines). */
  appVersion: string | null
  steps: StepRecord[]
  /** While `sleeping` or `waiting`: what for (a timer, a retry, an event, a child run). */
  waitingFor?: RunWait
}

/** A run's attributes: short string keys and values, filterable with `list({ tags })`. */
export type RunTags = Readonly<Record<string, string>>

/** Debounce of a start: see {@link StartOptions.debounce}. */
export interface DebounceOptions {
  /** Starts of the same workflow with the same key collapse into one run. */
  readonly key: string
  /** The run starts this long after the last start of its burst. */
  readonly delayMs: number
}

/** Options of `Engine.start`. */
export interface StartOptions {
  /**
   * A second start with the same key returns the first run instead of creating one, for as
   * long as the first run exists (see retention).
   */
  idempotencyKey?: string
  /** A queue declared in the app's `queues`; the engine's default queue if absent. */
  queue?: string
  /**
   * Admission order within the run's queue: lower runs first, FIFO (by start) within a
   * priority. An integer from -1,000,000 to 1,000,000. @default 0
   */
  priority?: number
  /**
   * While a run with this id is unfinished, another start with it fails with
   * `DUPLICATE_RUN` (naming that run); once it ended the id is free again. Unlike an
   * idempotency key, which returns the same run forever.
   */
  deduplicationId?: string
  /**
   * The partition of the run's queue (which must declare `partitionConcurrency`): at most
   * that many runs of one partition execute at once.
   */
  partitionKey?: string
  /** The run's attributes (at most 16; keys `[A-Za-z0-9_.:-]`, 1–64; values 0–256 chars). */
  tags?: RunTags
  /**
   * The run is cancelled (with its non-detached children) if it has not ended this many ms
   * after the start; overrides the workflow's `timeoutMs`.
   */
  timeoutMs?: number
  /**
   * Collapses a burst of starts: see `Engine.start`. Overrides the workflow's `debounce`.
   */
  debounce?: DebounceOptions
}

/** One run of `Engine.startMany`. */
export interface StartRequest extends StartOptions {
  workflow: string
  input?: JsonValue
}

/** Filters and page of `Engine.list`. */
export interface ListOptions {
  readonly status?: RunStatus
  readonly workflow?: string
  /** Runs having all these tags (AND). */
  readonly tags?: RunTags
  /** @default 50 (at most 1000) */
  readonly limit?: number
  /** `nextCursor` of the previous page. */
  readonly cursor?: string
}

/** One page of runs, newest first. */
export interface ListPage {
  runs: RunSummary[]
  /** Pass as `cursor` for the next page; `null` on the last page. */
  nextCursor: string | null
}

/** The status of one run of `Engine.statuses`; `status: null` for an unknown id. */
export type RunStatusEntry =
  | { runId: string; status: RunStatus; updatedAt: string }
  | { runId: string; status: null; notFound: true }
