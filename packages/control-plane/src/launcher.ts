import type { WorkerSettings } from '@litecell/protocol'
import type { LogRequest } from './tenant-log.js'

/** Everything a launcher needs to start one worker for one tenant and lease epoch. */
export interface WorkerSpec {
  /** The worker's settings; the launcher adds where it runs (its folder and address). */
  readonly settings: WorkerSettings
  /** Where the worker's log lines go (local launcher; launcher notes under Kubernetes). */
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

/** What a heartbeat tells a launcher about a worker it is asked to adopt. */
export interface AdoptedWorker {
  readonly tenantId: string
  /** The lease epoch the worker holds (a pod is named for it). */
  readonly epoch: number
  /** The process id the worker reported, if any (meaningless outside this machine). */
  readonly pid: number | undefined
  /** The lease TTL this control plane renews the worker with (bounds a fence). */
  readonly leaseTtlMs: number
  /** Where launcher notes about the worker go, as {@link WorkerSpec.logPath}. */
  readonly logPath: string
}

/**
 * Starts workers. The local implementation spawns processes on this machine; the Kubernetes
 * implementation creates pods. The control plane never assumes more than this: a worker needs
 * only its tenant id, its lease epoch and S3.
 */
export interface Launcher {
  /**
   * Workers run on machines of their own (Kubernetes pods): a worker's disk dies with it, and
   * a worker can outlive this control plane's machine. Such tenants default to `replicated`
   * durability, and a lease epoch is confirmed in S3 before such a worker starts, so a
   * control plane restored from S3 never hands out an epoch a surviving worker holds (issue
   * 11). Absent: workers share this machine and its fate.
   */
  readonly remoteWorkers?: boolean
  launch(spec: WorkerSpec): WorkerProcess
  /**
   * Follows a worker a previous control plane launched for `tenantId` under lease `epoch`,
   * whose heartbeat (proven by its secret) says it still runs: a control plane restart adopts
   * it (issue 9, item 10). A local launcher follows the process `pid` (not its child: `exited`
   * resolves with code and signal null once it and its process group are gone); a pod
   * launcher follows the pod named for the tenant and epoch, whatever pid its container
   * reports. Undefined if no such worker of this tenant is known here. Synchronous: the
   * registry is checked just before and taken over just after, with nothing awaited between.
   * Absent: surviving workers are not adopted; they fence when their lease is refused and are
   * replaced once it ran out.
   */
  adopt?(worker: AdoptedWorker): WorkerProcess | undefined
  /**
   * Whether the tenant has files here that its replica may lack (a crash or a failed
   * hibernation kept them): then its next worker must start from them, and hibernating the
   * tenant means finishing that job. Always false where a worker's disk dies with it (pods).
   */
  hasLocalState(tenantId: string): boolean
  /** Removes the tenant's local files (it is being deleted); its worker has exited. */
  removeLocalState(tenantId: string): Promise<void>
  /** Releases what the launcher holds besides launched workers (e.g. standby processes). */
  close?(): void
  /**
   * The tenant's worker log (what its workers wrote, app output included) as text: the last
   * lines, then new ones while `follow`. Absent where the launcher cannot serve logs (the
   * API answers 501 with {@link logsUnavailableHint} then).
   */
  logs?(tenantId: string, request: LogRequest): ReadableStream<Uint8Array>
  /** Where to read a tenant's logs instead, for a launcher without {@link logs}. */
  logsUnavailableHint?(tenantId: string): string
  /**
   * Replaces workers started ahead of time (standby processes), whose app modules were
   * loaded before an app's code changed: a tenant switched to new code must not run the old.
   */
  refresh?(): void
}
