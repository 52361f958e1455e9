// The app of the schedule crash test: every second, one run of a two-step workflow.
import { defineApp } from '../../src/index.js'

export default defineApp({
  schedules: { tick: { cron: '* * * * * *', workflow: 'tick', overlap: 'allow', catchUp: 'all' } },
  workflows: {
    tick: async (ctx) => {
      const a = await ctx.step('a', () => 1)
      return ctx.step('b', () => a + 1)
    },
  },
})
