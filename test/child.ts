/**
 * Runs a TypeScript program as a child Node process (through tsx, as a user would) and reads the
 * pino JSON lines it writes on stdout as they arrive.
 */
import { spawn } from "node:child_process"
import { join } from "node:path"

export const root = join(import.meta.dirname, "..")

export interface Line {
  readonly level: number
  readonly msg: string
  readonly [field: string]: unknown
}

export interface Child {
  /** every JSON line read so far (non-JSON output is kept in `text`) */
  readonly lines: Array<Line>
  readonly text: Array<string>
  /** resolves with the first line (already read or still to come) that matches */
  readonly waitFor: (p: (line: Line) => boolean) => Promise<Line>
  readonly signal: (signal: NodeJS.Signals) => void
  /** resolves when the process ended: its exit code (null if killed by a signal) and stderr */
  readonly exited: Promise<{ readonly code: number | null; readonly stderr: string }>
}

export const start = (
  file: string,
  args: ReadonlyArray<string> = [],
  env: Readonly<Record<string, string>> = {}
): Child => {
  const proc = spawn(
    process.execPath,
    ["--conditions=tributary:source", "--import", "tsx", join(root, file), ...args],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    }
  )
  const lines: Array<Line> = []
  const text: Array<string> = []
  let waiters: Array<{ p: (line: Line) => boolean; resolve: (line: Line) => void }> = []
  let pending = ""
  let stderr = ""
  proc.stdout.setEncoding("utf8")
  proc.stdout.on("data", (chunk: string) => {
    pending += chunk
    let nl = pending.indexOf("\n")
    while (nl >= 0) {
      const raw = pending.slice(0, nl)
      pending = pending.slice(nl + 1)
      nl = pending.indexOf("\n")
      let line: Line
      try {
        line = JSON.parse(raw)
      } catch {
        text.push(raw)
        continue
      }
      lines.push(line)
      waiters = waiters.filter((w) => {
        if (!w.p(line)) return true
        w.resolve(line)
        return false
      })
    }
  })
  proc.stderr.setEncoding("utf8")
  proc.stderr.on("data", (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    proc.on("close", (code) => resolve({ code, stderr }))
  })
  return {
    lines,
    text,
    waitFor: (p) => {
      const found = lines.find(p)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        waiters.push({ p, resolve })
        void exited.then(() =>
          reject(
            new Error(`${file} exited before the expected line; lines: ${JSON.stringify(lines)}; stderr: ${stderr}`)
          )
        )
      })
    },
    signal: (signal) => {
      proc.kill(signal)
    },
    exited
  }
}

/** Runs `file` to its end. */
export const run = async (file: string, args: ReadonlyArray<string> = []) => {
  const child = start(file, args)
  const { code, stderr } = await child.exited
  return { code, stderr, lines: child.lines, text: child.text }
}

export const byMsg =
  (msg: string) =>
  (line: Line): boolean =>
    line.msg === msg

/** The outcome lines (the supervisor's one line per job). */
export const outcomes = (lines: ReadonlyArray<Line>): Array<Line> => lines.filter((l) => "job.outcome" in l)
