import type { Hono } from 'hono'
import type { Engine, ScheduleRequest } from '@litecell/engine'
import { optionalString, readJsonObject } from '@litecell/protocol'

/**
 * The tenant's schedule routes (below `/v1/tenants/<id>`), over `engine.schedules`. The
 * engine validates every field (bad cron text or time zone: `INVALID_INPUT`, a 400 with the
 * parser's reason), so the routes only read bodies and pick statuses.
 */
export function addScheduleRoutes(tenant: Hono, engine: Engine): void {
  tenant.post('/schedules', async (context) => {
    const body = await readJsonObject(context)
    return context.json(await engine.schedules.create(body as unknown as ScheduleRequest), 201)
  })

  tenant.get('/schedules', async (context) =>
    context.json({ schedules: await engine.schedules.list() }),
  )

  tenant.get('/schedules/:sid', async (context) =>
    context.json(await engine.schedules.get(context.req.param('sid'))),
  )

  tenant.delete('/schedules/:sid', async (context) => {
    await engine.schedules.delete(context.req.param('sid'))
    return context.json({ deleted: true })
  })

  tenant.post('/schedules/:sid/pause', async (context) =>
    context.json(await engine.schedules.pause(context.req.param('sid'))),
  )

  tenant.post('/schedules/:sid/resume', async (context) =>
    context.json(await engine.schedules.resume(context.req.param('sid'))),
  )

  tenant.post('/schedules/:sid/trigger', async (context) => {
    const idempotencyKey = optionalString(await readJsonObject(context), 'idempotencyKey', 512)
    const options = idempotencyKey === undefined ? {} : { idempotencyKey }
    return context.json(await engine.schedules.trigger(context.req.param('sid'), options), 202)
  })

  tenant.post('/schedules/:sid/backfill', async (context) => {
    const body = await readJsonObject(context)
    const range = { from: body.from as string, to: body.to as string }
    return context.json(await engine.schedules.backfill(context.req.param('sid'), range), 202)
  })
}
