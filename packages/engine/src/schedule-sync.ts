import { validateSchedule, type ScheduleDefinition } from './schedule.js'
import type { ScheduleStore } from './schedule-store.js'

/**
 * Makes the database's app schedules those the app declares (run at every open, inside the
 * caller's write):
 *
 * - a new one is inserted; its first fire is the first fire time after now (an app deployed
 *   today does not owe yesterday's fires);
 * - a changed one is updated; its cursor restarts after now only if its `cron` or `timezone`
 *   changed (other changes keep the fires it owes), and a paused one stays paused;
 * - one the app no longer declares is deleted (the runs it started stay);
 * - a schedule created through the API with the id of an app schedule becomes the app's.
 */
export function syncAppSchedules(
  store: ScheduleStore,
  schedules: Readonly<Record<string, ScheduleDefinition>>,
  nowMs: number,
): void {
  const declared = new Set(Object.keys(schedules))
  for (const row of store.all()) {
    if (row.source === 'app' && !declared.has(row.id)) store.delete(row.id)
  }
  for (const [id, definition] of Object.entries(schedules)) {
    const { spec, cron } = validateSchedule(id, definition, `app.schedules.${id}`, nowMs)
    const existing = store.get(id)
    if (existing === undefined) {
      store.insert(spec, 'app', cron.nextAfter(nowMs), nowMs)
      continue
    }
    const same =
      existing.source === 'app' &&
      existing.workflow === spec.workflow &&
      existing.input === spec.input &&
      existing.overlap === spec.overlap &&
      existing.catch_up === spec.catchUp
    const timingChanged = existing.cron !== spec.cron || existing.timezone !== spec.timezone
    if (same && !timingChanged) continue
    const nextFireAt =
      existing.paused === 1 ? null : timingChanged ? cron.nextAfter(nowMs) : existing.next_fire_at
    store.updateSpec(spec, 'app', nextFireAt, nowMs)
  }
}
