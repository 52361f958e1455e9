import { Cron } from 'croner'
import { EngineError } from './engine-error.js'

/** Longest cron text accepted. */
export const MAX_CRON_LENGTH = 256

/**
 * A cron expression in a time zone, parsed by croner (5 fields, or 6 with seconds first;
 * nicknames such as `@daily`; `L`, `W` and `#` modifiers; day-of-month and day-of-week OR-ed
 * as Vixie cron does). Fire times are whole seconds in epoch ms. Around daylight-saving
 * changes croner follows Vixie cron: a fixed-time job (`30 2 * * *`) whose local time does not
 * exist that day fires once when the clock jumped past it, and once (the first time) on a
 * repeated hour; interval jobs (`*\/15 * * * *`) skip the missing times and fire on both passes
 * of a repeated hour.
 */
export class CronSchedule {
  readonly cron: string
  /** IANA time zone; `UTC` when none was given. */
  readonly timezone: string
  readonly #cron: Cron

  /**
   * @throws {EngineError} `INVALID_INPUT` with the parser's reason for bad cron text, an unknown
   *   time zone, or an expression that never fires.
   */
  constructor(
    cron: unknown,
    timezone: unknown = 'UTC',
    nowMs: number = Date.now(),
    /** Prefix of the field names in messages, e.g. `app.schedules.nightly.`. */
    prefix = '',
  ) {
    if (typeof cron !== 'string' || cron.trim() === '' || cron.length > MAX_CRON_LENGTH) {
      throw invalid(
        `${prefix}cron`,
        cron,
        `a cron expression of at most ${MAX_CRON_LENGTH} characters`,
      )
    }
    if (typeof timezone !== 'string' || timezone === '') {
      throw invalid(`${prefix}timezone`, timezone, 'an IANA time zone such as `Europe/Berlin`')
    }
    try {
      // Intl names a bad zone plainly ("Invalid time zone specified: Mars/Olympus").
      new Intl.DateTimeFormat('en-US', { timeZone: timezone })
    } catch (error) {
      throw invalid(
        `${prefix}timezone`,
        timezone,
        'an IANA time zone such as `Europe/Berlin`',
        error,
      )
    }
    let parsed: Cron
    try {
      parsed = new Cron(cron, { timezone, mode: '5-or-6-parts' })
    } catch (error) {
      throw invalid(
        `${prefix}cron`,
        cron,
        'a cron expression of 5 fields (or 6, seconds first)',
        error,
      )
    }
    this.cron = cron
    this.timezone = timezone
    this.#cron = parsed
    if (this.nextAfter(nowMs) === null) {
      throw new EngineError(
        'INVALID_INPUT',
        `Expected \`${prefix}cron\` to fire at some time after now, got \`${cron}\` (string): it matches no future date${timezone === 'UTC' ? '' : ` in ${timezone}`}`,
      )
    }
  }

  /** The first fire time strictly after `ms`, or `null` if there is none. */
  nextAfter(ms: number): number | null {
    return this.#cron.nextRun(new Date(ms))?.getTime() ?? null
  }

  /** The fire times at or before `ms`, at most `count` of them, oldest first. */
  latestAtOrBefore(ms: number, count: number): number[] {
    // previousRuns looks strictly before its reference; a fire exactly at `ms` counts.
    return this.#cron
      .previousRuns(count, new Date(ms + 1))
      .map((date) => date.getTime())
      .reverse()
  }

  /**
   * The fire times in [fromMs, toMs), oldest first; `null` if there are more than `max`.
   */
  between(fromMs: number, toMs: number, max: number): number[] | null {
    const fires: number[] = []
    let fire = this.nextAfter(fromMs - 1)
    while (fire !== null && fire < toMs) {
      if (fires.length === max) return null
      fires.push(fire)
      fire = this.nextAfter(fire)
    }
    return fires
  }
}

function invalid(what: string, value: unknown, expected: string, cause?: unknown): EngineError {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
  const reason = cause === undefined ? '' : `: ${(cause as Error).message}`
  return new EngineError(
    'INVALID_INPUT',
    `Expected \`${what}\` to be ${expected}, got \`${String(value).slice(0, 80)}\` (${type})${reason}`,
    { cause },
  )
}
