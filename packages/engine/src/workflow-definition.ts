import type { WorkflowFn } from './app.js'
import { EngineError } from './engine-error.js'

/**
 * A validator of the Standard Schema spec (https://standardschema.dev): zod, valibot, arktype
 * and others implement it, so the engine takes any of them without depending on one. The
 * interface is the spec's own, copied as the spec asks of libraries that accept schemas.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (
      value: unknown,
    ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>
    readonly types?: { readonly input: Input; readonly output: Output } | undefined
    /** Standard JSON Schema (optional): the workflows route shows the input's schema with it. */
    readonly jsonSchema?: {
      readonly input: (options: { readonly target: string }) => Record<string, unknown>
    }
  }
}

/** What a standard schema's `validate` returns. */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: ReadonlyArray<{
        readonly message: string
        readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined
      }>
    }

/** A workflow with its input's schema: starts whose input fails it are refused (400). */
export interface WorkflowDefinition<Input = unknown, Output = unknown> {
  readonly fn: WorkflowFn<Input, Output>
  /** Checked at start; the run's input is the schema's output (defaults applied). */
  readonly input?: StandardSchemaV1<unknown, Input>
}

/** An app's workflow entry: a plain function, or a function with an input schema. */
export type WorkflowEntry = WorkflowFn | WorkflowDefinition

/**
 * A workflow whose input is checked by `schema` (zod, valibot, … any Standard Schema) before
 * the run is created: a start with a bad input is an `INVALID_INPUT` (400) naming the field,
 * not a run that fails inside the function. The function's `input` is typed by the schema.
 *
 * @example
 * train: workflow(z.object({ lr: z.number().positive() }), async (ctx, input) => …)
 */
export function workflow<Input, Output>(
  schema: StandardSchemaV1<unknown, Input>,
  fn: WorkflowFn<Input, Output>,
): WorkflowDefinition<Input, Output> {
  return { fn, input: schema }
}

/** The function of a workflow entry. */
export function workflowFn(entry: WorkflowEntry): WorkflowFn {
  return (typeof entry === 'function' ? entry : entry.fn) as WorkflowFn
}

/** The input schema of a workflow entry, if it has one. */
export function inputSchemaOf(entry: WorkflowEntry | undefined): StandardSchemaV1 | undefined {
  return typeof entry === 'object' && entry !== null ? (entry.input as StandardSchemaV1 | undefined) : undefined
}

/** Whether a value is a Standard Schema. */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const props = (value as { '~standard'?: { validate?: unknown } } | null)?.['~standard']
  return typeof props === 'object' && props !== null && typeof props.validate === 'function'
}

/**
 * Checks a start's input against the workflow's schema; resolves with the value to store (the
 * schema's output).
 *
 * @throws {EngineError} `INVALID_INPUT` naming the first failing field, the schema's reason
 *   and the value it got.
 */
export async function checkInput(
  schema: StandardSchemaV1,
  input: unknown,
  what: string,
): Promise<unknown> {
  const result = await schema['~standard'].validate(input)
  if (result.issues === undefined) return result.value
  const issue = result.issues[0]
  const path = (issue?.path ?? []).map((segment) =>
    typeof segment === 'object' && segment !== null ? segment.key : segment,
  )
  const field = ['input', ...path.map(String)].join('.')
  const got = valueAt(input, path)
  const more = result.issues.length > 1 ? ` (and ${result.issues.length - 1} more)` : ''
  throw new EngineError(
    'INVALID_INPUT',
    `${what}: \`${field}\`: ${issue?.message ?? 'invalid'}, got ${describe(got)}${more}`,
  )
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<PropertyKey, unknown>)[key]
  }
  return current
}

function describe(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
  let shown = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`
  return `\`${shown}\` (${type})`
}
