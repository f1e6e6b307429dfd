/**
 * Worker child processes for the whole-process tests: `fixtures/worker.ts` run through tsx, its
 * stdout (pino JSON lines) kept, with a wait for its "pulling jobs" line.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"

export interface WorkerProcess {
  readonly name: string
  readonly ready: Promise<void>
  readonly exited: Promise<number | null>
  readonly output: () => string
  readonly kill: (signal: NodeJS.Signals) => void
}

export const spawnWorker = (
  url: string,
  prefix: string,
  name: string,
  runsFile: string,
  options: {
    readonly concurrency: number
    readonly maxAckPending: number
    readonly graceMillis: number
    readonly ackWaitMillis: number
  }
): WorkerProcess => {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "--conditions=tributary:source",
      "--import",
      "tsx",
      join(import.meta.dirname, "fixtures", "worker.ts"),
      url,
      prefix,
      name,
      runsFile,
      String(options.concurrency),
      String(options.maxAckPending),
      String(options.graceMillis),
      String(options.ackWaitMillis)
    ],
    { stdio: ["ignore", "pipe", "pipe"] }
  )
  let out = ""
  let onReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    onReady = resolve
  })
  child.stdout!.on("data", (chunk: Buffer) => {
    out += chunk.toString()
    if (out.includes("pulling jobs")) onReady()
  })
  child.stderr!.on("data", (chunk: Buffer) => {
    out += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { name, ready, exited, output: () => out, kill: (signal) => child.kill(signal) }
}
