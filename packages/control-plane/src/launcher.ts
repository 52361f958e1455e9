/** Everything a launcher needs to start one worker for one tenant and lease epoch. */
export interface WorkerSpec {
  readonly tenantId: string
  readonly epoch: number
  /** Environment of the worker process: its configuration, storage settings and secrets. */
  readonly env: Readonly<Record<string, string>>
  /** Where the worker's log lines go (local launcher). */
  readonly logPath: string
}

/** How a worker ended. */
export interface WorkerExit {
  readonly code: number | null
  readonly signal: string | null
}

/** A started worker, as the control plane tracks it. */
export interface WorkerProcess {
  readonly pid: number | undefined
  /** Resolves once the worker has exited: its lease is then free. */
  readonly exited: Promise<WorkerExit>
  /** Sends a signal (default SIGTERM: hibernate and exit). */
  kill(signal?: NodeJS.Signals): void
}

/**
 * Starts workers. The local implementation spawns processes on this machine; a Kubernetes
 * implementation would create pods. The control plane never assumes more than this: a
 * worker needs only its tenant id, its lease epoch and S3.
 */
export interface Launcher {
  launch(spec: WorkerSpec): WorkerProcess
  /** Releases what the launcher holds besides launched workers (e.g. standby processes). */
  close?(): void
  /**
   * Replaces workers started ahead of time (standby processes), whose app modules were
   * loaded before an app's code changed: a tenant switched to new code must not run the old.
   */
  refresh?(): void
}
