/**
 * Whole-process tests of `Supervisor.runMain` over a log destination that misbehaves (see
 * test/fixtures/stuck-destination.ts): the process ends on its own with the run's exit code, and
 * every line the destination did not take is counted in `PinoLogger.lostLines` — never a hang,
 * never an endless loop of unhandled rejections, never a silent loss.
 */
import { spawn } from "node:child_process"
import { closeSync, constants, mkdtempSync, openSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { root, start } from "./child.js"

const fixture = "test/fixtures/stuck-destination.ts"
const folder = mkdtempSync(join(tmpdir(), "tributary-stuck-"))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

interface Summary {
  readonly lines: number
  readonly writes: number
  readonly lostLines: number
  readonly unhandled: number
}

/** The fixture's `summary {…}` line on stderr. */
const summaryOf = (stderr: string): Summary => {
  const line = stderr.split("\n").find((l) => l.startsWith("summary "))
  if (line === undefined) throw new Error(`no summary on stderr: ${stderr}`)
  return JSON.parse(line.slice("summary ".length))
}

/** Ends `child` with SIGKILL if it is still running after `millis` (so a hang fails the test instead of stalling it). */
const killAfter = (child: { readonly signal: (signal: NodeJS.Signals) => void }, millis: number) => {
  let hung = false
  const timer = setTimeout(() => {
    hung = true
    child.signal("SIGKILL")
  }, millis)
  return {
    get hung() {
      return hung
    },
    clear: () => clearTimeout(timer)
  }
}

/**
 * Starts the fixture with its stdin and stdout as pipes of their own (`start` ignores stdin and
 * reads stdout); `env` is added to the process's environment.
 */
const spawnFixture = (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const proc = spawn(
    process.execPath,
    ["--conditions=tributary:source", "--import", "tsx", join(root, fixture), ...args],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"]
    }
  )
  let stderr = ""
  let waiters: Array<{ readonly text: string; readonly resolve: () => void }> = []
  proc.stderr.setEncoding("utf8")
  proc.stderr.on("data", (chunk: string) => {
    stderr += chunk
    waiters = waiters.filter((waiter) => {
      if (!stderr.includes(waiter.text)) return true
      waiter.resolve()
      return false
    })
  })
  const exited = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)))
  return {
    proc,
    exited,
    stderr: () => stderr,
    /** resolves once `text` was written on stderr */
    waitForStderr: (text: string) =>
      new Promise<void>((resolve) => {
        if (stderr.includes(text)) resolve()
        else waiters.push({ text, resolve })
      }),
    signal: (signal: NodeJS.Signals) => {
      proc.kill(signal)
    }
  }
}

/**
 * Once `after` is on the fixture's stderr, sends it SIGTERM and checks that the process then ends
 * by it — its own default action (the shell's 143) or exit 143 — before the test's net kills it.
 */
const endsOnSigterm = async (child: ReturnType<typeof spawnFixture>, after: string): Promise<void> => {
  const guard = killAfter(child, 30_000)
  await child.waitForStderr(after)
  child.signal("SIGTERM")
  const code = await child.exited
  guard.clear()
  expect(guard.hung).toBe(false)
  expect(code === 143 || child.proc.signalCode === "SIGTERM").toBe(true)
}

/** Runs the fixture in `mode` to its end (at most `limit` ms, then it is killed and counted as hung). */
const runMode = async (
  mode: string,
  args: ReadonlyArray<string> = [],
  limit = 30_000,
  env: Readonly<Record<string, string>> = {}
) => {
  const child = start(fixture, [mode, ...args], env)
  const guard = killAfter(child, limit)
  const { code, stderr } = await child.exited
  guard.clear()
  return { code, stderr, hung: guard.hung, lines: child.lines }
}

describe("runMain over a misbehaving log destination", () => {
  it("a destination whose flush never calls back: runMain ends after its forceAfter with exit 0, the wait reported on stderr", async () => {
    const { code, stderr, hung } = await runMode("flushHangs")
    expect(hung).toBe(false)
    expect(code).toBe(0)
    expect(stderr).toContain("drained")
    expect(stderr).toContain("did not finish writing within 1000 ms")
    expect(summaryOf(stderr).unhandled).toBe(0)
  }, 40_000)

  it("one SIGTERM while waiting for that flush ends the process at once, with 143", async () => {
    // a flush bound (forceAfter) much longer than the test: only the signal can end it in time
    const child = start(fixture, ["flushHangs"], { FORCE_AFTER_MS: "600000" })
    const guard = killAfter(child, 30_000)
    await child.waitFor((line) => typeof line.msg === "string" && line.msg.startsWith("exiting with code"))
    child.signal("SIGTERM")
    const { code, stderr } = await child.exited
    guard.clear()
    expect(guard.hung).toBe(false)
    expect(code).toBe(143)
    expect(child.lines.some((line) => line.msg === "SIGTERM while the logger was being flushed: exiting now")).toBe(
      true
    )
    expect(stderr).not.toContain("did not finish writing")
  }, 40_000)

  it("a destination whose write returns a rejected promise: every line counted lost, no unhandled rejection, exit 0", async () => {
    const { code, stderr, hung } = await runMode("rejects")
    expect(hung).toBe(false)
    expect(code).toBe(0)
    const summary = summaryOf(stderr)
    expect(summary.unhandled).toBe(0)
    expect(summary.lines).toBeGreaterThan(30)
    expect(summary.lostLines).toBe(summary.lines)
    expect(stderr).not.toContain("written again")
  }, 40_000)

  it("a Writable whose write never calls back: the lines it never took are counted lost and reported; exit 0", async () => {
    const { code, stderr, hung } = await runMode("stuckWritable")
    expect(hung).toBe(false)
    expect(code).toBe(0)
    const summary = summaryOf(stderr)
    expect(summary.writes).toBe(1)
    expect(summary.lostLines).toBe(summary.lines)
    expect(stderr).toContain(`${summary.lines} lines still unwritten are counted as lost`)
  }, 40_000)

  it("the same with runMain's maxHeldLines 5: lines past the fifth unanswered one are lost at once, reported once; exit 0", async () => {
    const { code, stderr, hung } = await runMode("stuckWritable", [], 30_000, { MAX_HELD_LINES: "5" })
    expect(hung).toBe(false)
    expect(code).toBe(0)
    const summary = summaryOf(stderr)
    expect(summary.lostLines).toBe(summary.lines)
    expect(stderr.split("has not answered its last 5 writes (maxHeldLines)")).toHaveLength(2)
    // only the five held ones are left for the final flush to give up on
    expect(stderr).toContain("5 lines still unwritten are counted as lost")
  }, 40_000)

  it("a Writable that fails for good: stderr never says lines are written again", async () => {
    const { code, stderr, hung } = await runMode("failingWritable")
    expect(hung).toBe(false)
    expect(code).toBe(0)
    const summary = summaryOf(stderr)
    // 4 lines written, every later one lost
    expect(summary.lostLines).toBe(summary.lines - 4)
    expect(stderr).not.toContain("written again")
    expect(stderr.split("\n").filter((line) => line.includes("could not be written"))).toHaveLength(1)
  }, 40_000)

  describe("pino.destination on a FIFO whose reader never reads", () => {
    const fifo = join(folder, "stalled.fifo")
    let reader: number | undefined
    afterAll(() => {
      if (reader !== undefined) closeSync(reader)
    })

    beforeAll(async () => {
      await new Promise<void>((resolve, reject) =>
        spawn("mkfifo", [fifo]).on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`mkfifo: ${code}`))))
      )
      // opened, never read: a log shipper that hangs
      reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
    })

    it("runMain ends on its own with exit 0 (it hung for ever on the blocked write); what it held is counted lost", async () => {
      const { code, stderr, hung } = await runMode("stalledPipe", [fifo])
      expect(hung).toBe(false)
      expect(code).toBe(0)
      expect(stderr).toContain("did not finish writing within 1000 ms")
      const summary = summaryOf(stderr)
      expect(summary.lostLines).toBeGreaterThan(0)
      expect(summary.lostLines).toBeLessThanOrEqual(summary.lines)
    }, 40_000)

    it("with a forceAfter far longer than the test, one SIGTERM once the run has ended ends the process (143)", async () => {
      const child = spawnFixture(["stalledPipe", fifo], { FORCE_AFTER_MS: "600000" })
      // the run is over; only the blocked write holds the process
      await endsOnSigterm(child, "ended")
      expect(child.stderr()).toContain("still unwritten when the logger was given up on")
    }, 40_000)
  })

  describe("pino.destination on a stdout the parent never reads (a socket Node made, not a FIFO)", () => {
    it("sync: a write waits at most a second for room, then lines are held and counted lost; runMain ends on its own (exit 0)", async () => {
      const child = spawnFixture(["stalledStdout", "sync"])
      const guard = killAfter(child, 30_000)
      const code = await child.exited
      guard.clear()
      expect(guard.hung).toBe(false)
      expect(code).toBe(0)
      const stderr = child.stderr()
      expect(stderr).toContain("the log destination failed to write")
      const summary = summaryOf(stderr)
      expect(summary.lostLines).toBeGreaterThan(0)
      expect(summary.lostLines).toBeLessThanOrEqual(summary.lines)
    }, 40_000)

    for (const sync of [true, false]) {
      it(`sync: ${sync}, stopped by SIGTERM: the process ends (143)${sync ? "" : "; the write still held forceAfter after the run is given up"}`, async () => {
        const child = spawnFixture(["stalledStdout", sync ? "sync" : "async"], { WAIT_FOR_SIGNAL: "1" })
        await endsOnSigterm(child, "drained")
        // the asynchronous write blocks on the socket, which cannot be read back as a pipe can
        if (!sync) expect(child.stderr()).toContain("a log write was still held")
      }, 40_000)
    }
  })

  for (const sync of [true, false]) {
    it(`pino.destination({ sync: ${sync} }) on a stdout whose reader is gone (EPIPE): every line is counted lost, none claimed held`, async () => {
      const child = spawnFixture(["brokenPipe", sync ? "sync" : "async"])
      // the reader goes away before any line is written, then the jobs run
      child.proc.stdout.destroy()
      child.proc.stdin.write("go\n")
      const guard = killAfter(child, 30_000)
      const code = await child.exited
      guard.clear()
      const stderr = child.stderr()
      expect(guard.hung).toBe(false)
      expect(code).toBe(0)
      const summary = summaryOf(stderr)
      expect(summary.lines).toBeGreaterThan(30)
      expect(summary.lostLines).toBe(summary.lines)
      expect(stderr).toContain("reader is gone")
      expect(stderr).not.toContain("held in memory and tried again")
      expect(stderr).not.toContain("written again")
    }, 40_000)
  }
})
