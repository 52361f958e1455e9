/** What one scenario of `pnpm bench` reports. */

/** A correctness check a scenario made (every run succeeded, files gone…). */
export interface Check {
  readonly what: string
  readonly ok: boolean
  readonly detail?: string
}

/** The outcome of one scenario: its figures, its checks, and whether it completed. */
export interface ScenarioResult {
  readonly name: string
  readonly status: 'ok' | 'failed' | 'skipped'
  readonly seconds: number
  readonly figures: Record<string, unknown>
  readonly checks: readonly Check[]
  readonly error?: string
  /** Rows for the printed table: [figure, value]. */
  readonly table: readonly (readonly [string, string])[]
}

/** Collects a scenario's checks, figures and table rows while it runs. */
export class ScenarioRecorder {
  readonly figures: Record<string, unknown> = {}
  readonly checks: Check[] = []
  readonly table: [string, string][] = []

  /** Records a check; returns whether it held. */
  check(what: string, ok: boolean, detail?: string): boolean {
    this.checks.push(detail === undefined ? { what, ok } : { what, ok, detail })
    return ok
  }

  /** Adds a row to the printed table. */
  row(figure: string, value: string | number): void {
    this.table.push([figure, String(value)])
  }
}

/**
 * Runs a scenario: a thrown error or a failed check marks it failed (the bench then exits
 * non-zero), and `onFailure` may keep logs. Progress goes to stderr.
 */
export async function runScenario(
  name: string,
  body: (recorder: ScenarioRecorder) => Promise<void>,
  options: { onFailure?: () => Promise<void> | void } = {},
): Promise<ScenarioResult> {
  const recorder = new ScenarioRecorder()
  const startedMs = performance.now()
  process.stderr.write(`\n▶ ${name}\n`)
  let error: string | undefined
  try {
    await body(recorder)
  } catch (err) {
    error = err instanceof Error ? (err.stack ?? err.message) : String(err)
  }
  const failed = error !== undefined || recorder.checks.some((check) => !check.ok)
  if (failed) await options.onFailure?.()
  const seconds = Number(((performance.now() - startedMs) / 1000).toFixed(1))
  process.stderr.write(`${failed ? '✗' : '✓'} ${name} (${seconds} s)${error ? `\n  ${error}` : ''}\n`)
  for (const check of recorder.checks.filter((c) => !c.ok)) {
    process.stderr.write(`  check failed: ${check.what}${check.detail ? ` (${check.detail})` : ''}\n`)
  }
  return {
    name,
    status: failed ? 'failed' : 'ok',
    seconds,
    figures: recorder.figures,
    checks: recorder.checks,
    ...(error === undefined ? {} : { error }),
    table: recorder.table,
  }
}

/** A scenario not run in this mode, with the reason. */
export function skippedScenario(name: string, reason: string): ScenarioResult {
  process.stderr.write(`\n- ${name}: skipped (${reason})\n`)
  return { name, status: 'skipped', seconds: 0, figures: { skipped: reason }, checks: [], table: [['skipped', reason]] }
}

/** Logs a progress line to stderr. */
export function progress(line: string): void {
  process.stderr.write(`  ${line}\n`)
}
