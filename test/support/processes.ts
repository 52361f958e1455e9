import { readFileSync, readdirSync } from 'node:fs'

/** True while a process with this pid runs (a zombie, exited but not yet reaped, does not). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/**
 * Pids of the Litestream processes replicating a database under `dir` (read from each
 * Litestream's command line and config file via /proc). A child a Litestream has forked
 * for its `-exec` watchdog shows Litestream's command line until it execs: not counted.
 */
export function replicatorsOf(dir: string): number[] {
  const pids = candidatesOf(dir)
  return pids.filter((pid) => !pids.includes(parentOf(pid)))
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  } catch {
    return 0
  }
}

function candidatesOf(dir: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      if (!argv[0]?.endsWith('litestream') || argv[1] !== 'replicate') continue
      const config = argv[argv.indexOf('-config') + 1]
      if (config && readFileSync(config, 'utf8').includes(dir)) pids.push(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return pids
}

/** `state ppid=… pgid=…` of a process, for failure messages. */
export function describeProcess(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return `state ${state} ppid=${ppid} pgid=${pgid}`
  } catch {
    return 'gone'
  }
}
