/**
 * The processes of `nats.ts`: a server (nats-server, redis-server) on a free loopback port with a
 * temporary directory, and worker processes; each is ready when it has printed its ready line.
 *
 * Invariants: every process started here is stopped by `stop` (SIGTERM, awaited); a server's
 * temporary directory is removed when it stops; a process that exits before its ready line
 * rejects the start with its output.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** A free loopback port (closed again before it is returned). */
export const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })

/** Resolves when `child` has printed `ready` (stdout or stderr); rejects if it exits first. */
const readyLine = (child: ChildProcess, ready: string): Promise<void> =>
  new Promise((resolve, reject) => {
    let out = ""
    const onData = (d: Buffer) => {
      out += d
      if (!out.includes(ready)) return
      child.stdout?.off("data", onData)
      child.stderr?.off("data", onData)
      resolve()
    }
    child.stdout?.on("data", onData)
    child.stderr?.on("data", onData)
    child.once("exit", (code, signal) => reject(new Error(`exited (${code ?? signal}) before "${ready}": ${out}`)))
  })

export interface Server {
  readonly port: number
  readonly child: ChildProcess
  readonly stop: () => Promise<void>
}

/** Starts `command` with `args(port, dir)` and waits for `ready`. */
export const startServer = async (
  command: string,
  args: (port: number, dir: string) => ReadonlyArray<string>,
  ready: string
): Promise<Server> => {
  const dir = mkdtempSync(join(tmpdir(), `tributary-bench-${command}-`))
  const port = await freePort()
  const child = spawn(command, args(port, dir), { stdio: ["ignore", "pipe", "pipe"] })
  await readyLine(child, ready)
  return {
    port,
    child,
    stop: async () => {
      await stop([child])
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Starts `n` worker processes of `script` (this Node, its flags) with `args(i)`; waits for "pulling jobs" from each. */
export const startWorkers = async (
  script: string,
  n: number,
  args: (i: number) => ReadonlyArray<string>
): Promise<Array<ChildProcess>> => {
  const children = Array.from({ length: n }, (_, i) =>
    spawn(process.execPath, [...process.execArgv, join(import.meta.dirname, script), ...args(i)], {
      stdio: ["ignore", "pipe", "inherit"]
    })
  )
  await Promise.all(children.map((c) => readyLine(c, "pulling jobs")))
  // keep draining their output, so a chatty worker never blocks on a full pipe
  for (const c of children) c.stdout?.resume()
  return children
}

/** Stops each process with SIGTERM and waits for its exit (one already gone counts as stopped). */
export const stop = (children: ReadonlyArray<ChildProcess>): Promise<Array<void>> =>
  Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve()
          c.once("exit", () => resolve())
          c.kill("SIGTERM")
        })
    )
  )

/** CPU time (user + system, ms) a live process has used so far, from /proc (Linux); 0 once it is gone. */
export const cpuMillis = (child: ChildProcess): number => {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1].split(" ")
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in clock ticks (100/s)
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return 0
  }
}
