import type { PatientApi } from './patient-api.js'
import { formatMs, type Narrator } from './narrator.js'
import { RunTracker, waitForRuns, type RunSummary } from './run-tracker.js'

/** A run to start, as `POST /v1/tenants/:id/runs/batch` takes it. */
export interface RunRequest {
  workflow: string
  input: unknown
  idempotencyKey: string
}

/** What happened during a {@link crashBurst}. */
export interface BurstOutcome {
  runs: RunSummary[]
  /** From the first submission until every run had ended. */
  wallMs: number
  killedPid: number
  /** Runs accepted but not yet ended when the worker was killed. */
  unfinishedAtKill: number
  /** The worker that took over, and how long after the kill it was active. */
  replacement: { pid: number; epoch: number; afterKillMs: number }
  /** How long after the kill the second half of the burst was accepted. */
  secondHalfAcceptedAfterMs: number
}

interface TenantView {
  state: string
  worker?: { pid: number | null; epoch: number }
}

/**
 * Fires `requests` at a tenant in two batches and kills the tenant's worker with SIGKILL
 * once `killAfterEnded` runs have ended: the first half is then partly done, partly in
 * flight. The second half is submitted right after the kill, through the control plane,
 * which starts a replacement worker; the same idempotency keys make any retried batch
 * start the same runs, not new ones. Waits until every run has ended, drawing a progress bar.
 */
/** The kill comes at the latest this long after the first batch was accepted. */
const KILL_AT_LATEST_MS = 600

export async function crashBurst(options: {
  api: PatientApi
  say: Narrator
  tenantId: string
  requests: readonly RunRequest[]
  killAfterEnded: number
  timeoutMs: number
  /** Called right after the kill (e.g. to show another tenant carrying on). */
  onKill?: () => void
}): Promise<BurstOutcome> {
  const { api, say, tenantId, requests } = options
  const batchPath = `/v1/tenants/${tenantId}/runs/batch`
  const half = Math.ceil(requests.length / 2)
  const tracker = new RunTracker(api, tenantId)
  const startedAt = performance.now()

  const first = await api.post<{ runIds: string[] }>(batchPath, { runs: requests.slice(0, half) })
  tracker.add(first.runIds)
  say.info(`${first.runIds.length} runs accepted in one batch (one commit)`)

  const bar = say.progress(requests.length)
  let kill: Promise<Omit<BurstOutcome, 'runs' | 'wallMs'>> | undefined
  let runs: RunSummary[]
  try {
    runs = await waitForRuns(tracker, {
      timeoutMs: options.timeoutMs,
      onPoll: async () => {
        const { ended, failed } = tracker.counts()
        const perSecond = ended / ((performance.now() - startedAt) / 1_000)
        bar.update(ended, `${failed} failed · ${Math.round(perSecond)} runs/s`)
        // Every run sleeps durably for a second, so a kill before that lands mid-burst even
        // when the machine is fast enough to finish a batch between two polls.
        const isDue = ended >= options.killAfterEnded || performance.now() - startedAt >= KILL_AT_LATEST_MS
        if (kill === undefined && isDue) {
          kill = killAndContinue(tracker.size - ended)
          // Keep polling only once the second half is being followed too.
          await kill
        }
      },
    })
  } finally {
    bar.finish()
  }
  if (kill === undefined) throw new Error(`the burst ended before ${options.killAfterEnded} runs had ended`)
  return { runs, wallMs: performance.now() - startedAt, ...(await kill) }

  async function killAndContinue(unfinishedAtKill: number) {
    const tenant = await api.get<TenantView>(`/v1/tenants/${tenantId}`)
    const killedPid = tenant.worker?.pid
    if (!killedPid) throw new Error(`tenant ${tenantId} has no worker to kill (state ${tenant.state})`)
    process.kill(killedPid, 'SIGKILL')
    const killedAt = performance.now()
    say.act(`SIGKILL to ${tenantId}'s worker (pid ${killedPid}) with ${unfinishedAtKill} runs unfinished`)
    options.onKill?.()
    const replacement = waitForReplacement(api, tenantId, killedPid, killedAt)
    replacement.catch(() => undefined) // awaited below; this only keeps an early failure from going unhandled
    const second = await api.post<{ runIds: string[] }>(batchPath, { runs: requests.slice(half) })
    const secondHalfAcceptedAfterMs = performance.now() - killedAt
    tracker.add(second.runIds)
    say.info(`other ${second.runIds.length} runs accepted ${formatMs(secondHalfAcceptedAfterMs)} after the kill`)
    return { killedPid, unfinishedAtKill, replacement: await replacement, secondHalfAcceptedAfterMs }
  }
}

/** Polls the tenant until a worker other than `killedPid` serves it. */
async function waitForReplacement(api: PatientApi, tenantId: string, killedPid: number, killedAt: number) {
  for (;;) {
    const tenant = await api.get<TenantView>(`/v1/tenants/${tenantId}`)
    const pid = tenant.worker?.pid
    if (tenant.state === 'active' && pid && pid !== killedPid) {
      return { pid, epoch: tenant.worker!.epoch, afterKillMs: performance.now() - killedAt }
    }
    if (performance.now() - killedAt > 60_000) throw new Error(`no new worker for ${tenantId} within 60 s of the kill`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
