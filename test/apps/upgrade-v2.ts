/**
 * Version 2 of the app of the upgrade test (see upgrade-v1.ts): a run that reaches the point
 * after the sleep under this code takes the new branch (`patched` is true, and recorded), a
 * run already past it under v1 replays its `after` step. Its new migration runs at the switch.
 */
export default {
  version: 'v2',
  migrations: [
    { name: 'ledger', sql: 'CREATE TABLE ledger (run_id TEXT NOT NULL, entry TEXT NOT NULL)' },
    { name: 'notes', sql: 'CREATE TABLE notes (run_id TEXT NOT NULL, note TEXT NOT NULL)' },
  ],
  workflows: {
    train: async (ctx: any, input: { sleepMs: number; sleepAfterMs: number }) => {
      const before = await ctx.step('before', () => 'v1')
      await ctx.sleep(input.sleepMs)
      let after: string
      if (await ctx.patched('notes')) {
        await ctx.transaction('note', (tx: any) => {
          tx.execute('INSERT INTO notes (run_id, note) VALUES (?, ?)', [ctx.runId, 'written by v2'])
          return null
        })
        after = await ctx.step('after-v2', () => 'v2')
      } else {
        after = await ctx.step('after', () => 'v1')
      }
      await ctx.sleep(input.sleepAfterMs)
      return { before, after }
    },
    quick: async () => 'v2',
  },
}
