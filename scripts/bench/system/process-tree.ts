import { readFileSync, readdirSync } from 'node:fs'

/** One process as /proc shows it. */
export interface ProcessInfo {
  readonly pid: number
  readonly ppid: number
  /** Process group: a worker leads its own group, holding its Litestream. */
  readonly pgid: number
  /** Start time in clock ticks since boot: with the pid, it names a process unambiguously. */
  readonly startTicks: number
  readonly command: string
}

/** Every process on the machine (those that end while being read are skipped). */
export function listProcesses(): ProcessInfo[] {
  const processes: ProcessInfo[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const info = readProcess(Number(entry))
    if (info) processes.push(info)
  }
  return processes
}

/** One process, or undefined if it is gone (or a zombie). */
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
  if (fields[0] === 'Z') return undefined
  return {
    pid,
    command: stat.slice(stat.indexOf('(') + 1, close),
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    startTicks: Number(fields[19]),
  }
}

/** Resident set size of a process in bytes (VmRSS), 0 if it is gone. */
export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
    return match?.[1] ? Number(match[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/**
 * The process tree of `rootPid`: its descendants, plus members of any process group led by
 * one of them (a worker's Litestream outlives the worker for its final sync, reparented away
 * from the tree, but stays in the worker's group).
 */
export function treeOf(rootPid: number, processes: readonly ProcessInfo[] = listProcesses()): ProcessInfo[] {
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
  const groups = new Set([...members.values()].filter((info) => info.pid === info.pgid).map((info) => info.pid))
  for (const info of processes) {
    if (groups.has(info.pgid) && !members.has(info.pid)) members.set(info.pid, info)
  }
  return [...members.values()]
}

/** Sum of VmRSS over processes, in bytes. */
export function totalRss(processes: readonly ProcessInfo[]): number {
  return processes.reduce((sum, info) => sum + rssBytes(info.pid), 0)
}

/** Whether this very process (pid and start time) still runs. */
export function isSameProcessAlive(info: ProcessInfo): boolean {
  const now = readProcess(info.pid)
  return now !== undefined && now.startTicks === info.startTicks
}
