/**
 * What `litecell serve` costs before any tenant is active (issue 12, "Lighter processes"):
 * start-up time to the first healthy `GET /v1/health`, then, idle for 10 s, the RSS of the
 * control plane and of each process it started (the registry's Litestream, the standby
 * worker, an esbuild service), read from /proc; and how long `litecell --help` takes, the
 * start of every other command. Runs the command as a user does (`packages/cli/bin/litecell.js`),
 * each start on a fresh temp data folder. Prints JSON (also written to
 * `bench-results/serve-at-rest.json`).
 *
 *   pnpm bench:serve [--runs 3] [--idle-ms 10000] [--root <checkout>]
 *
 * `--root`: the checkout whose `litecell` to run (another version of the code, for a before/after).
 * `--node-args`: flags for the control plane's Node (space-separated; default: those of `pnpm start`,
 *   `SERVE_NODE_ARGS`; `--node-args ''` runs it with Node's defaults).
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort, isEmbeddedS3Server, rssBytes, treeOf, type ProcessInfo } from '@litecell/testkit'
import { REPO_ROOT, SERVE_NODE_ARGS } from '@litecell/testkit/server'
import { delay, median, round, toMb } from './system/stats.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'idle-ms': { type: 'string', default: '10000' },
    root: { type: 'string', default: REPO_ROOT },
    'node-args': { type: 'string', default: SERVE_NODE_ARGS.join(' ') },
  },
})
const CLI_BIN = join(values.root, 'packages/cli/bin/litecell.js')
const NODE_ARGS = values['node-args'].split(' ').filter(Boolean)
const RUNS = Number(values.runs)
const IDLE_MS = Number(values['idle-ms'])

type Kind =
  | 'control plane'
  | 'registry Litestream'
  | 'its watchdog shell'
  | 'embedded S3 server'
  | 'standby worker'
  | 'esbuild service'
  | 'other'

function kindOf(info: ProcessInfo, serverPid: number): Kind {
  if (info.pid === serverPid) return 'control plane'
  if (info.command.startsWith('litestream')) return 'registry Litestream'
  if (info.command === 'esbuild') return 'esbuild service'
  // Litestream's `-exec` child that ends it when the control plane is gone.
  if (info.command === 'sh') return 'its watchdog shell'
  // The local stand-in for S3 (a real deployment has none).
  if (isEmbeddedS3Server(info.pid)) return 'embedded S3 server'
  if (info.command.startsWith('node')) return 'standby worker'
  return 'other'
}

/** One start: ms to the first healthy answer, then the RSS (MB) of each kind of process at rest. */
async function oneStart(): Promise<{ healthyMs: number; rssMb: Record<string, number> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'litecell-serve-at-rest-'))
  const port = await freePort()
  const startedAtMs = performance.now()
  const child = spawn(process.execPath, [...NODE_ARGS, CLI_BIN, 'serve'], {
    cwd: dataDir,
    env: { ...process.env, LITECELL_DATA_DIR: dataDir, LITECELL_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  try {
    let healthyMs = Number.NaN
    while (Number.isNaN(healthyMs)) {
      if (child.exitCode !== null) throw new Error(`litecell serve exited ${child.exitCode}:\n${output}`)
      if (performance.now() - startedAtMs > 120_000) throw new Error(`no healthy answer in 120 s:\n${output}`)
      const healthy = await fetch(`http://127.0.0.1:${port}/v1/health`).then(
        (response) => response.ok,
        () => false,
      )
      if (healthy) healthyMs = performance.now() - startedAtMs
      else await delay(10)
    }
    await delay(IDLE_MS)
    const rssMb: Record<string, number> = {}
    for (const info of treeOf(child.pid!)) {
      const kind = kindOf(info, child.pid!)
      rssMb[kind] = round((rssMb[kind] ?? 0) + toMb(rssBytes(info.pid)), 1)
    }
    return { healthyMs: Math.round(healthyMs), rssMb }
  } finally {
    child.kill('SIGTERM')
    await new Promise((done) => (child.exitCode !== null ? done(null) : child.once('exit', done)))
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** Wall time of `litecell --help`, ms (the bundle already built). */
function helpMs(): number {
  const startedAtMs = performance.now()
  const result = spawnSync(process.execPath, [CLI_BIN, '--help'], { stdio: 'ignore' })
  if (result.status !== 0) throw new Error(`litecell --help exited ${result.status}`)
  return Math.round(performance.now() - startedAtMs)
}

const loadBefore = loadavg()[0]!
helpMs() // builds whatever is stale, once
const help = Array.from({ length: 10 }, helpMs)
const starts: Awaited<ReturnType<typeof oneStart>>[] = []
for (let run = 0; run < RUNS; run++) {
  starts.push(await oneStart())
  process.stderr.write(`start ${run + 1}/${RUNS}: ${JSON.stringify(starts.at(-1))}\n`)
}
const kinds = [...new Set(starts.flatMap((start) => Object.keys(start.rssMb)))]
const result = {
  loadAverage: { before: loadBefore, after: loadavg()[0]! },
  helpMs: { median: median(help), samples: help },
  healthyMs: { median: median(starts.map((start) => start.healthyMs)), samples: starts.map((start) => start.healthyMs) },
  rssAtRestMb: Object.fromEntries(kinds.map((kind) => [kind, median(starts.map((start) => start.rssMb[kind] ?? 0))])),
  idleMs: IDLE_MS,
  root: values.root,
  nodeArgs: NODE_ARGS,
  starts,
}
mkdirSync(join(REPO_ROOT, 'bench-results'), { recursive: true })
writeFileSync(join(REPO_ROOT, 'bench-results/serve-at-rest.json'), `${JSON.stringify(result, null, 2)}\n`)
console.log(JSON.stringify(result, null, 2))
