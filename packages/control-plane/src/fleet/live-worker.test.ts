import { expect, test } from 'vitest'
import type { WorkerExit, WorkerProcess } from '../launcher.js'
import { LiveWorker } from './live-worker.js'

/**
 * A worker process that ignores everything but SIGKILL: the fault a real worker shows when
 * its stop hangs outside the engine (a fake, since a real one is hard to hang on purpose).
 */
function stubbornProcess(): WorkerProcess & { signals: string[] } {
  let exit!: (exit: WorkerExit) => void
  const signals: string[] = []
  return {
    pid: 4242,
    signals,
    exited: new Promise((resolve) => (exit = resolve)),
    kill(signal = 'SIGTERM') {
      signals.push(signal)
      if (signal === 'SIGKILL') exit({ code: null, signal: 'SIGKILL' })
    },
  }
}

function liveWorker(process: WorkerProcess): LiveWorker {
  return new LiveWorker({
    tenantId: 'acme',
    app: 'test',
    epoch: 1,
    process,
    startedAtMs: 0,
    secret: 's',
    secretHash: 'h',
  })
}

test('a stopping worker still there at the stop deadline is killed, and its stop fails', async () => {
  // Catches: a stop with no deadline on the control plane's side, leaving the tenant
  // `stopping` for as long as a stuck worker pleases.
  const process = stubbornProcess()
  const live = liveWorker(process)
  const stop = live.beginStop(live.hibernation(), 50)
  await expect(stop).rejects.toMatchObject({ code: 'WORKER_UNAVAILABLE' })
  expect(process.signals).toEqual(['SIGKILL'])
})

test('exit 0 without a hibernated report is not a hibernation', async () => {
  // Catches: trusting the exit code alone (an app's process.exit(0) exits 0 too).
  let exit!: (exit: WorkerExit) => void
  const process: WorkerProcess = {
    pid: 1,
    exited: new Promise((resolve) => (exit = resolve)),
    kill: () => undefined,
  }
  const live = liveWorker(process)
  const hibernation = live.hibernation()
  exit({ code: 0, signal: null })
  await expect(hibernation).rejects.toMatchObject({ code: 'WORKER_UNAVAILABLE' })

  let reportedExit!: (exit: WorkerExit) => void
  const reported = liveWorker({
    pid: 2,
    exited: new Promise((resolve) => (reportedExit = resolve)),
    kill: () => undefined,
  })
  reported.reportHibernated(null)
  const done = reported.hibernation()
  reportedExit({ code: 0, signal: null })
  await expect(done).resolves.toBeUndefined()
})
