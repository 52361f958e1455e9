/**
 * The kubelet half of the fake Kubernetes in fake-api.ts (no
 * cluster runs on this machine). It runs a pod's container command as a real local process
 * group: `node` is this Node binary and the image's working directory `/app` is this
 * repository (the image copies it there, infra/Dockerfile). The environment is the pod's own
 * (secretKeyRef and the downward API's status.podIP resolved) plus PATH/HOME/TMPDIR as an
 * image would provide. Two things a pod has and a process has not are stood in for: each pod
 * gets its own loopback IP (127.77.x.y) and a listen address of 0.0.0.0 becomes that IP (a
 * pod's own network namespace); volume mount paths become a per-pod temporary folder.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { resolve } from 'node:path'
import { REPO_ROOT } from '../litecell-server.js'

/** A Kubernetes object as JSON. */
export type Json = Record<string, any>

/** A pod as the fake holds it: its object, its container process and its log. */
export interface FakePod {
  object: Json
  child?: ChildProcess
  log: string
  /** Stands in for the pod's volumes. */
  dir: string
  killTimer?: NodeJS.Timeout
}

/** The node's kubelet: starts containers, posts their status, stops them. */
export class FakeKubelet {
  /** While true the kubelet does nothing (a lost node): no signals, no status. */
  lost = false
  #nextIp = 1 + Math.floor(Math.random() * 200) * 250

  /**
   * Binds the pod to the node, gives it an IP and starts its container. `onChange` runs after
   * each status it posts (`stopped` once the container has stopped and its final status is in).
   */
  run(
    object: Json,
    secrets: ReadonlyMap<string, Json>,
    onChange: (stopped: boolean) => void,
  ): FakePod {
    const n = this.#nextIp++
    const ip = `127.77.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`
    object.spec = { ...object.spec, nodeName: 'fake-node' }
    object.status = { phase: 'Pending', podIP: ip }
    const pod: FakePod = {
      object,
      log: '',
      dir: mkdtempSync(resolve(tmpdir(), 'litecell-fake-pod-')),
    }
    const container = object.spec.containers[0] as Json
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/',
      TMPDIR: tmpdir(),
    }
    for (const variable of container.env ?? []) {
      if ('value' in variable) env[variable.name] = variable.value
      else if (variable.valueFrom?.fieldRef?.fieldPath === 'status.podIP') env[variable.name] = ip
      else if (variable.valueFrom?.secretKeyRef) {
        const ref = variable.valueFrom.secretKeyRef
        const value = secrets.get(ref.name)?.stringData?.[ref.key]
        if (value === undefined) {
          object.status.containerStatuses = [
            {
              name: container.name,
              state: {
                waiting: {
                  reason: 'CreateContainerConfigError',
                  message: `secret "${ref.name}" not found`,
                },
              },
            },
          ]
          setImmediate(() => onChange(false))
          return pod
        }
        env[variable.name] = value
      }
    }
    for (const mount of container.volumeMounts ?? []) {
      for (const [key, value] of Object.entries(env))
        if (value.startsWith(mount.mountPath))
          env[key] = pod.dir + value.slice(mount.mountPath.length)
    }
    for (const [key, value] of Object.entries(env)) if (value === '0.0.0.0') env[key] = ip
    const [command, ...args] = container.command as string[]
    const child = spawn(command === 'node' ? process.execPath : command!, args, {
      cwd: container.workingDir === '/app' ? REPO_ROOT : (container.workingDir ?? REPO_ROOT),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    pod.child = child
    child.stdout!.on('data', (chunk: Buffer) => (pod.log += chunk.toString()))
    child.stderr!.on('data', (chunk: Buffer) => (pod.log += chunk.toString()))
    child.once('spawn', () => {
      object.status = {
        ...object.status,
        phase: 'Running',
        containerStatuses: [
          { name: container.name, state: { running: { startedAt: new Date().toISOString() } } },
        ],
      }
      onChange(false)
    })
    child.once('exit', (code, signal) => {
      // The container's PID 1 ended: its PID namespace, Litestream included, goes with it.
      killGroup(child, 'SIGKILL')
      clearTimeout(pod.killTimer)
      if (this.lost) return
      const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1)
      object.status = {
        ...object.status,
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        containerStatuses: [
          {
            name: container.name,
            state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' } },
          },
        ],
      }
      onChange(true)
    })
    return pod
  }

  /** A deleted pod's container: SIGTERM, then SIGKILL after the grace period; 0 is SIGKILL. */
  stop(pod: FakePod, graceSeconds: number): void {
    const child = pod.child
    if (this.lost || !child || child.exitCode !== null || child.signalCode !== null) return
    if (graceSeconds === 0) return killGroup(child, 'SIGKILL')
    // The kubelet signals the container's PID 1 only; the runtime kills the rest with it.
    child.kill('SIGTERM')
    clearTimeout(pod.killTimer)
    pod.killTimer = setTimeout(() => killGroup(child, 'SIGKILL'), graceSeconds * 1000)
  }
}

/** Signals a container's whole process group (its PID namespace, here). */
export function killGroup(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (child?.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}
