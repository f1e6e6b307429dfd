/**
 * The job's launcher gone: the documented command is `npx -y pnpm@12.4.2 etl`, and the process
 * tree under it is npx → sh → pnpm → sh → node (this job). A SIGTERM sent to npx (or to pnpm) is
 * not passed on: npx exits 143 at once and the job would run on, orphaned, to its end. So the job
 * watches the processes that started it and, once one of them is gone, stops exactly as for a
 * SIGTERM (it sends itself one: `Supervisor.runMain` answers it — graceful stop, the summary,
 * exit 143), after one line saying why.
 *
 * Which processes: its parent, and above it every ancestor in its process group (a shell gives a
 * command line's processes a group of their own, npx leading it). An ancestor is gone when its
 * pid no longer names it (exited, a zombie, or a new process with another start time), or when the
 * one below it has another parent now (it was re-parented: its parent died). The group's leader
 * may get another parent (`nohup … &` and the shell exits): that is no reason to stop. Linux reads
 * /proc; elsewhere only the parent is watched (`process.ppid` changes when it dies).
 *
 * The check runs every `everyMillis` on an unref'd timer (it never keeps the process alive), and
 * stops after it has sent the signal: one signal, never the second that would mean "exit now".
 */
import { readFileSync } from "node:fs"
import type pino from "pino"

/** A process as /proc shows it. */
interface Proc {
  readonly pid: number
  readonly ppid: number
  readonly pgrp: number
  /** start time since boot, in clock ticks: tells a reused pid from the process it was */
  readonly start: string
  readonly name: string
  readonly zombie: boolean
}

const proc = (pid: number): Proc | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8")
    // "pid (comm) state ppid pgrp session tty tpgid flags … starttime (field 22)"; comm may hold ") "
    const close = text.lastIndexOf(")")
    const fields = text.slice(close + 2).split(" ")
    return {
      pid,
      ppid: Number(fields[1]),
      pgrp: Number(fields[2]),
      start: fields[19] ?? "",
      name: text.slice(text.indexOf("(") + 1, close),
      zombie: fields[0] === "Z"
    }
  } catch {
    return undefined
  }
}

/** The processes that started this one: its parent, then its ancestors within its process group. */
const launchers = (): ReadonlyArray<Proc> => {
  const self = proc(process.pid)
  const parent = self && proc(self.ppid)
  if (self === undefined || parent === undefined) return []
  const chain = [parent]
  for (let p = proc(parent.ppid); p !== undefined && p.pid > 1 && p.pgrp === self.pgrp; p = proc(p.ppid)) chain.push(p)
  return chain
}

/** The first launcher that is gone, described for the log line; undefined while all are there. */
const goneOf = (chain: ReadonlyArray<Proc>, parentPid: number): string | undefined => {
  if (process.ppid !== parentPid) return `its parent (pid ${parentPid}) exited`
  for (const [i, was] of chain.entries()) {
    const now = proc(was.pid)
    if (now === undefined || now.zombie || now.start !== was.start) return `${was.name} (pid ${was.pid}) exited`
    const above = chain[i + 1]
    if (above !== undefined && now.ppid !== was.ppid) return `${above.name} (pid ${above.pid}) exited`
  }
  return undefined
}

/**
 * Watches the processes that started the job (see the module doc); when one is gone, logs one
 * warn line through `logger` and sends this process SIGTERM. Returns the watch's stop.
 *
 * ```ts
 * import pino from "pino"
 * import { watchLaunchers } from "./parent-watch.js"
 *
 * const stop = watchLaunchers(pino(), 500)
 * stop() // no longer watched
 * ```
 */
export const watchLaunchers = (logger: pino.Logger<any>, everyMillis = 500): (() => void) => {
  const parentPid = process.ppid
  const chain = launchers()
  const timer = setInterval(() => {
    const gone = goneOf(chain, parentPid)
    if (gone === undefined) return
    clearInterval(timer)
    logger.warn(
      { launcherGone: gone },
      `the process that started the job is gone (${gone}; a signal sent to npx or pnpm is not passed on to the job): stopping as for SIGTERM — to stop the job, signal its node process (pid ${process.pid}) or its process group`
    )
    process.kill(process.pid, "SIGTERM")
  }, everyMillis)
  timer.unref()
  return () => clearInterval(timer)
}
