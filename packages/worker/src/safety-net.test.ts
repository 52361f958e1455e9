import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../testdata/safety-net/run.ts', import.meta.url))

async function runChild(...args: string[]): Promise<{ code: number | null; lines: any[] }> {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  const lines = out.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line))
  return { code, lines }
}

describe('the worker safety net', () => {
  it('keeps the process alive through app rejections and throwing timers, logging each kind once at warn', async () => {
    const { code, lines } = await runChild()
    expect(code).toBe(0)
    expect(lines.at(-1)).toEqual({ survived: true })
    const logged = lines.filter((line) => line.msg !== undefined)
    // Three of each happened; identical lines within the window are logged once.
    expect(logged.map((line) => [line.level, line.origin, line.err.message])).toEqual([
      [40, 'app', 'floating rejection from the app'],
      [40, 'app', 'timer thrown by the app'],
    ])
    expect(logged[0].msg).toMatch(/unhandled promise rejection from app code; the worker goes on/)
  }, 60_000)

  it("ends the process on an uncaught exception from litecell's own code", async () => {
    const { code, lines } = await runChild('litecell-throw')
    expect(code).toBe(70)
    const fatal = lines.find((line) => line.level === 60)
    expect(fatal).toMatchObject({ origin: 'litecell', err: { message: 'broken invariant in litecell' } })
  }, 60_000)
})
