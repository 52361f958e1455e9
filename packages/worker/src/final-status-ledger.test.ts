import { describe, expect, it } from 'vitest'
import { FinalStatusLedger } from './final-status-ledger.js'

/** A confirmation the test answers by hand. */
function manualConfirmations() {
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = []
  return {
    confirmCommitted: () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject })),
    confirmAll: () => pending.splice(0).forEach((waiter) => waiter.resolve()),
    get asked() {
      return pending.length
    },
  }
}

const settled = () => new Promise((resolve) => setImmediate(resolve))

describe('FinalStatusLedger', () => {
  it('masks an end until its confirmation, as the status the run had before it', async () => {
    const confirmations = manualConfirmations()
    const confirmed: string[] = []
    const ledger = new FinalStatusLedger({
      confirmCommitted: confirmations.confirmCommitted,
      onConfirmed: (runId, _workflow, status) => confirmed.push(`${runId} ${status}`),
    })
    ledger.observe('r1', 'train', 'waiting')
    ledger.observe('r1', 'train', 'cancelled')
    ledger.observe('r2', 'train', 'succeeded')
    const view = { runId: 'r1', status: 'cancelled' as const, output: 3, error: null }
    expect(ledger.mask(view)).toEqual({ runId: 'r1', status: 'waiting', output: null, error: null })
    expect(ledger.mask({ runId: 'r2', status: 'succeeded' as const })).toEqual({ runId: 'r2', status: 'running' })
    expect(ledger.mask({ runId: 'r3', status: 'succeeded' as const }).status).toBe('succeeded')
    expect(ledger.pending).toBe(2)
    confirmations.confirmAll()
    await ledger.confirmation('r1')
    await settled()
    expect(ledger.mask(view)).toBe(view)
    expect(confirmed.sort()).toEqual(['r1 cancelled', 'r2 succeeded'])
  })

  it('forgets an unconfirmed end once the run is resumed', async () => {
    const confirmations = manualConfirmations()
    const ledger = new FinalStatusLedger({ confirmCommitted: confirmations.confirmCommitted })
    ledger.observe('r1', 'train', 'failed')
    const waiting = ledger.confirmation('r1')
    ledger.observe('r1', 'train', 'pending')
    await waiting
    expect(ledger.pending).toBe(0)
    expect(ledger.isConfirmed('r1', 'pending')).toBe(true)
  })

  // Catches: a worker restarted from a crash's local file showing ends S3 may not hold.
  it('holds every end, also of runs it never saw, until the file it started from is confirmed', async () => {
    const confirmations = manualConfirmations()
    const ledger = new FinalStatusLedger({ confirmCommitted: confirmations.confirmCommitted })
    ledger.hold()
    expect(ledger.isConfirmed('old-run', 'succeeded')).toBe(false)
    expect(ledger.isConfirmed('old-run', 'sleeping')).toBe(true)
    const held = ledger.confirmation('old-run')
    confirmations.confirmAll()
    await held
    expect(ledger.isConfirmed('old-run', 'succeeded')).toBe(true)
  })

  // Catches: a local tenant paying a confirmation (disk reads, S3 listings) per run end, and a
  // tenant that turns out replicated showing an end the ledger saw before it followed.
  it('asks nothing until it follows; ends seen before are held until everything so far is confirmed', async () => {
    const confirmations = manualConfirmations()
    const ledger = new FinalStatusLedger({ confirmCommitted: confirmations.confirmCommitted, following: false })
    ledger.observe('r1', 'train', 'running')
    ledger.observe('r1', 'train', 'succeeded')
    await settled()
    expect(confirmations.asked).toBe(0)
    expect(ledger.pending).toBe(0)
    ledger.follow()
    expect(ledger.isConfirmed('r1', 'succeeded')).toBe(false)
    expect(confirmations.asked).toBe(1)
    ledger.observe('r2', 'train', 'failed')
    expect(ledger.pending).toBe(1)
    confirmations.confirmAll()
    await ledger.confirmation('r1')
    await ledger.confirmation('r2')
    expect(ledger.isConfirmed('r1', 'succeeded')).toBe(true)
    expect(ledger.isConfirmed('r2', 'failed')).toBe(true)
  })

  it('follows without holding when no run ended before (a replicated tenant woken by a request)', () => {
    const confirmations = manualConfirmations()
    const ledger = new FinalStatusLedger({ confirmCommitted: confirmations.confirmCommitted, following: false })
    ledger.observe('r1', 'train', 'running')
    ledger.follow()
    expect(confirmations.asked).toBe(0)
    expect(ledger.isConfirmed('restored-run', 'succeeded')).toBe(true)
    ledger.observe('r1', 'train', 'succeeded')
    expect(ledger.isConfirmed('r1', 'succeeded')).toBe(false)
    expect(confirmations.asked).toBe(1)
  })
})
