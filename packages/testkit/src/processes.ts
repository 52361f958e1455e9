/**
 * What /proc says about processes (Linux; elsewhere every list is empty): the tests' checks of
 * the one-writer invariant, the benchmark's memory figures and the demo's clean-up read it.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { sep } from 'node:path'

/** One process as /proc shows it. */
export interface ProcessInfo {
  readonly pid: number
  readonly ppid: number
  /** Process group: a worker leads its own group, holding its Litestream. */
  readonly pgid: number
  /** Start time in clock ticks since boot: with the pid, it names a process unambiguously. */
  readonly startTicks: number
  readonly command: string
  /** `R`, `S`, `Z`…: a zombie (`Z`) has exited but is not yet reaped. */
  readonly state: string
}

/** One process, or undefined if it is gone. */
export function readProcess(pid: number): ProcessInfo | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command (field 2) may hold spaces and parentheses: split after its last ')'.
  const close = stat.lastIndexOf(')')
  const fields = stat.slice(close + 2).split(' ')
  return {
    pid,
    command: stat.slice(stat.indexOf('(') + 1, close),
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    startTicks: Number(fields[19]),
  }
}

/** Every live process on the machine (zombies and those that end while being read are left out). */
export function listProcesses(): ProcessInfo[] {
  const processes: ProcessInfo[] = []
  for (const pid of pids()) {
    const info = readProcess(pid)
    if (info && info.state !== 'Z') processes.push(info)
  }
  return processes
}

/** True while a process with this pid runs (a zombie, exited but not yet reaped, does not). */
export function isAlive(pid: number): boolean {
  const info = readProcess(pid)
  return info !== undefined && info.state !== 'Z'
}

/** Whether this very process (pid and start time) still runs. */
export function isSameProcessAlive(info: ProcessInfo): boolean {
  const now = readProcess(info.pid)
  return now !== undefined && now.state !== 'Z' && now.startTicks === info.startTicks
}

/** `state S ppid=… pgid=…` of a process, for failure messages. */
export function describeProcess(pid: number): string {
  const info = readProcess(pid)
  return info ? `state ${info.state} ppid=${info.ppid} pgid=${info.pgid}` : 'gone'
}

/** Resident set size of a process in bytes (VmRSS), 0 if it is gone. */
export function rssBytes(pid: number): number {
  return procFieldBytes(`/proc/${pid}/status`, 'VmRSS')
}

/**
 * Proportional set size of `pid` in bytes (0 if gone): its private pages plus its share of
 * pages it maps with other processes (the Node binary, native addons), so summing it over
 * processes counts shared memory once — what one more process really costs, where RSS counts
 * every shared page in full in each process.
 */
export function pssBytes(pid: number): number {
  return procFieldBytes(`/proc/${pid}/smaps_rollup`, 'Pss')
}

/** A `<field>: <n> kB` line of a /proc file, in bytes; 0 if the process is gone. */
function procFieldBytes(path: string, field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(path, 'utf8'))
    return match?.[1] ? Number(match[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/** Sum of VmRSS over processes, in bytes. */
export function totalRss(processes: readonly ProcessInfo[]): number {
  return processes.reduce((sum, info) => sum + rssBytes(info.pid), 0)
}

/**
 * The process tree of `rootPid`: its descendants, plus members of any process group led by
 * one of them (a worker's Litestream outlives the worker for its final sync, reparented away
 * from the tree, but stays in the worker's group).
 */
export function treeOf(
  rootPid: number,
  processes: readonly ProcessInfo[] = listProcesses(),
): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>()
  for (const info of processes) {
    const list = children.get(info.ppid) ?? []
    list.push(info)
    children.set(info.ppid, list)
  }
  const members = new Map<number, ProcessInfo>()
  const root = processes.find((info) => info.pid === rootPid)
  const stack = root ? [root] : []
  while (stack.length > 0) {
    const info = stack.pop()!
    if (members.has(info.pid)) continue
    members.set(info.pid, info)
    stack.push(...(children.get(info.pid) ?? []))
  }
  const groups = new Set(
    [...members.values()].filter((info) => info.pid === info.pgid).map((info) => info.pid),
  )
  for (const info of processes) {
    if (groups.has(info.pgid) && !members.has(info.pid)) members.set(info.pid, info)
  }
  return [...members.values()]
}

/**
 * Pids of the Litestream processes replicating a database under `dir` (read from each
 * Litestream's command line and config file). A child a Litestream has forked for its `-exec`
 * watchdog shows Litestream's command line until it execs: not counted.
 */
export function replicatorsOf(dir: string): number[] {
  return [...replicatorsByReplica(dir).values()].flat()
}

/**
 * {@link replicatorsOf}, by the replica each writes to (`<bucket>/<path>` from its config): the
 * one-writer invariant says never two pids on one replica. Keyed by replica rather than by
 * local file, so two pods of one tenant, each with its own folder, still count as two.
 */
export function replicatorsByReplica(dir: string): Map<string, number[]> {
  const prefix = dir.endsWith(sep) ? dir : `${dir}${sep}`
  const candidates: { pid: number; ppid: number; replica: string }[] = []
  for (const pid of pids()) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      if (!argv[0]?.endsWith('litestream') || argv[1] !== 'replicate') continue
      const configPath = argv[argv.indexOf('-config') + 1]
      if (!configPath) continue
      const config = readFileSync(configPath, 'utf8')
      if (!configValue(config, '  - path')?.startsWith(prefix)) continue
      const replica = `${configValue(config, '        bucket')}/${configValue(config, '        path')}`
      candidates.push({ pid, ppid: readProcess(pid)?.ppid ?? 0, replica })
    } catch {
      // the process ended while we looked
    }
  }
  const ids = candidates.map((candidate) => candidate.pid)
  const byReplica = new Map<string, number[]>()
  for (const { pid, ppid, replica } of candidates) {
    if (ids.includes(ppid)) continue
    byReplica.set(replica, [...(byReplica.get(replica) ?? []), pid])
  }
  return byReplica
}

/** A value of a Litestream config written by @litecell/replica (JSON-quoted), by its indented key. */
function configValue(config: string, indentedKey: string): string | undefined {
  const line = config.split('\n').find((candidate) => candidate.startsWith(`${indentedKey}: "`))
  return line === undefined ? undefined : (JSON.parse(line.slice(indentedKey.length + 2)) as string)
}

/** The numeric entries of /proc; none where there is no /proc. */
export function pids(): number[] {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  return entries.filter((entry) => /^\d+$/.test(entry)).map(Number)
}

/**
 * Whether `pid` is a control plane's embedded S3 server (its own Node process since issue 12):
 * the local stand-in for S3, counted apart from the control plane.
 */
export function isEmbeddedS3Server(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    return argv[1]?.endsWith('embedded-s3-server.mjs') === true
  } catch {
    return false // ended while we looked
  }
}
