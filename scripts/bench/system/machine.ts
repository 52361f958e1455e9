import os from 'node:os'
import { round } from './stats.js'

/** The machine a bench ran on, as printed with its figures. */
export interface Machine {
  readonly cpuModel: string
  readonly cpuCount: number
  readonly memoryMb: number
  readonly freeMemoryMb: number
  readonly node: string
  readonly platform: string
  /** 1, 5 and 15 minute load averages when the bench started. */
  readonly loadAverage: readonly number[]
  readonly startedAt: string
}

/** Describes this machine now (call it once, at the start). */
export function describeMachine(): Machine {
  const cpus = os.cpus()
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memoryMb: Math.round(os.totalmem() / (1024 * 1024)),
    freeMemoryMb: Math.round(os.freemem() / (1024 * 1024)),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverage: os.loadavg().map((value) => round(value, 2)),
    startedAt: new Date().toISOString(),
  }
}
