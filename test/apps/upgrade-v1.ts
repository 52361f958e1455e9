/**
 * Version 1 of the app of the upgrade test: `train` records a step, sleeps durably, records
 * another, and sleeps again. Version 2 (upgrade-v2.ts) changed the code after the sleep behind
 * `ctx.patched`, and added a migration at the end of the list.
 */
export default {
  version: 'v1',
  migrations: [
    { name: 'ledger', sql: 'CREATE TABLE ledger (run_id TEXT NOT NULL, entry TEXT NOT NULL)' },
  ],
  workflows: {
    train: async (ctx: any, input: { sleepMs: number; sleepAfterMs: number }) => {
      const before = await ctx.step('before', () => 'v1')
      await ctx.sleep(input.sleepMs)
      const after = await ctx.step('after', () => 'v1')
      await ctx.sleep(input.sleepAfterMs)
      return { before, after }
    },
    quick: async () => 'v1',
  },
}
