/** Set to `1` in a standby worker's environment: it waits for an assignment before it starts. */
export const STANDBY_ENV = 'LITECELL_STANDBY'
/** Comma-separated app modules a standby worker imports while it waits. */
export const PRELOAD_APPS_ENV = 'LITECELL_PRELOAD_APPS'

/**
 * The message a launcher sends a standby worker over its IPC channel to give it a tenant: the
 * variables of {@link serializeWorkerEnvironment}, merged into the worker's environment.
 */
export interface StandbyAssignment {
  readonly type: 'assign'
  readonly env: Readonly<Record<string, string>>
}

/** Whether an IPC message is a {@link StandbyAssignment}. */
export function isStandbyAssignment(message: unknown): message is StandbyAssignment {
  return (message as { type?: unknown } | null)?.type === 'assign'
}
