/**
 * Whole-process tests of `Supervisor.runMain`: each fixture in `fixtures/` runs as a child Node
 * process; the tests read its pino lines and its exit code, and send it signals once it logged
 * "ready" (after it started its jobs).
 */
import { describe, expect, it } from "vitest"
import { byMsg, outcomes, run, start } from "./child.js"

const ready = byMsg("ready")

describe("Supervisor.runMain", () => {
  it("exits 0 when the program and its jobs end, with one outcome line per job", async () => {
    const { code, lines } = await run("test/fixtures/normal.ts")
    expect(code).toBe(0)
    const byName = Object.fromEntries(outcomes(lines).map((l) => [l["job.name"], l["job.outcome"]]))
    expect(byName).toEqual({ alpha: "Success", beta: "Success", gamma: "Failure" })
    expect(outcomes(lines)).toHaveLength(3)
    const last = lines[lines.length - 1]
    expect(last).toMatchObject({ msg: "exiting with code 0", exitCode: 0, "jobs.succeeded": 2, "jobs.failed": 1 })
  })

  it("exits 1 when a job failed, with failOnJobFailure", async () => {
    const { code, lines } = await run("test/fixtures/normal.ts", ["failOnJobFailure"])
    expect(code).toBe(1)
    expect(outcomes(lines)).toHaveLength(3)
  })

  it("writes through a pino instance the program built (its base fields on every line)", async () => {
    const { code, lines } = await run("test/fixtures/normal.ts", ["instance"])
    expect(code).toBe(0)
    expect(outcomes(lines)).toHaveLength(3)
    expect(lines.length).toBeGreaterThan(3)
    for (const line of lines) {
      expect(line.service).toBe("billing")
      expect(line).not.toHaveProperty("pid") // pino's default base was replaced: the instance is the one used
    }
  })

  it("a logger that can lose lines is refused at once: exit 1 with PinoLoggerConfigError, nothing run", async () => {
    const { code, stderr, lines } = await run("test/fixtures/normal.ts", ["lossy"])
    expect(code).toBe(1)
    expect(stderr).toContain("PinoLoggerConfigError")
    expect(outcomes(lines)).toHaveLength(0)
  })

  it("logger options pino rejects: exit 1 with PinoLoggerConfigError (as PinoLogger.layer), nothing run", async () => {
    const { code, stderr, lines } = await run("test/fixtures/normal.ts", ["badOptions"])
    expect(code).toBe(1)
    expect(stderr).toContain("PinoLoggerConfigError")
    expect(stderr).toContain("invalid options")
    expect(lines).toHaveLength(0)
  })

  it("a program that throws: exit 1, one error line with the stack, its jobs still end", async () => {
    const { code, lines } = await run("test/fixtures/program-fails.ts")
    expect(code).toBe(1)
    const failures = lines.filter((l) => JSON.stringify(l).includes("cannot read the config"))
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatchObject({ level: 50, msg: "program failed", err: { type: "Die", name: "TypeError" } })
    expect((failures[0].err as { stack: string }).stack).toContain("program-fails.ts")
    expect(outcomes(lines).map((l) => [l["job.name"], l["job.outcome"]])).toEqual([["side-job", "Success"]])
  })

  it("a program that fails with a typed error: exit 1, one error line", async () => {
    const { code, lines } = await run("test/fixtures/program-fails.ts", ["fail"])
    expect(code).toBe(1)
    const failures = lines.filter((l) => JSON.stringify(l).includes("missing DATABASE_URL"))
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatchObject({ msg: "program failed", err: { type: "Fail", name: "ConfigError" } })
    expect((failures[0].err as { stack: string }).stack).toContain("ConfigError")
  })

  it("a program interrupted by itself (joining a job that timed out): exit 1, one error line saying so", async () => {
    const { code, lines } = await run("test/fixtures/program-fails.ts", ["interrupted"])
    expect(code).toBe(1)
    const cut = lines.filter((l) => String(l.msg).startsWith("program was interrupted before it ended"))
    expect(cut).toHaveLength(1)
    expect(cut[0].level).toBe(50)
    expect(
      outcomes(lines)
        .map((l) => `${l["job.name"]} ${l["job.outcome"]}`)
        .sort()
    ).toEqual(["side-job Success", "slow TimedOut"])
    expect(lines.at(-1)).toMatchObject({ msg: "exiting with code 1", exitCode: 1 })
  })

  it("SIGTERM: drains within grace, logs stragglers by name and age, interrupts them newest first, exits 143", async () => {
    const child = start("test/fixtures/long-jobs.ts")
    await child.waitFor(ready)
    child.signal("SIGTERM")
    const { code } = await child.exited
    expect(code).toBe(143)
    const lines = child.lines
    const stragglers = lines.filter((l) => String(l.msg).endsWith("still running at shutdown; interrupting it"))
    expect(stragglers.map((l) => l["job.name"])).toEqual(["slow-3", "slow-2", "slow-1"])
    for (const l of stragglers) expect(typeof l.ageMillis).toBe("number")
    const ended = outcomes(lines)
    // the finisher ended within grace, on its own
    expect(ended.find((l) => l["job.name"] === "finisher")).toMatchObject({ "job.outcome": "Success" })
    const interrupted = ended.filter((l) => l["job.outcome"] === "Interrupted").map((l) => l["job.name"])
    // the delayed job is cancelled first (it never ran), then the running ones, newest first
    expect(interrupted).toEqual(["later", "slow-3", "slow-2", "slow-1"])
    // the signal's line counts every job the grace waits for: running, queued and delayed
    expect(lines.find((l) => l.signal === "SIGTERM")?.msg).toBe(
      "SIGTERM received: stopping; waiting up to 1500 ms for 5 jobs"
    )
    // order of events: the signal line, the finisher's outcome, the stragglers, their outcomes, the exit line
    const index = (p: (l: (typeof lines)[number]) => boolean) => lines.findIndex(p)
    expect(index((l) => l.signal === "SIGTERM")).toBeGreaterThanOrEqual(0)
    expect(index((l) => l.signal === "SIGTERM")).toBeLessThan(index((l) => l["job.name"] === "finisher"))
    expect(index((l) => l["job.name"] === "finisher")).toBeLessThan(index((l) => l === stragglers[0]))
    expect(lines[lines.length - 1]).toMatchObject({ msg: "exiting with code 143", exitCode: 143 })
  })

  it("SIGINT: the same, exit 130", async () => {
    const child = start("test/fixtures/long-jobs.ts")
    await child.waitFor(ready)
    child.signal("SIGINT")
    const { code } = await child.exited
    expect(code).toBe(130)
    // the three stragglers and the delayed job
    expect(outcomes(child.lines).filter((l) => l["job.outcome"] === "Interrupted")).toHaveLength(4)
  })

  it("a second signal exits at once, after one final line, with the same code", async () => {
    const child = start("test/fixtures/long-jobs.ts", ["grace=60000"])
    await child.waitFor(ready)
    child.signal("SIGTERM")
    // wait until shutdown began (and the finisher, which only needed the first signal, ended)
    await child.waitFor((l) => l["job.name"] === "finisher" && l["job.outcome"] === "Success")
    child.signal("SIGTERM")
    const { code } = await child.exited
    expect(code).toBe(143)
    const last = child.lines[child.lines.length - 1]
    expect(last).toMatchObject({ level: 60, signal: "SIGTERM", exitCode: 143, running: 3 })
    expect(String(last.msg)).toContain("second signal")
    // it did not wait for the 60 s grace: no running job was interrupted (only the delayed one,
    // cancelled when the shutdown began: it could never start), no exit line of the graceful path
    expect(
      outcomes(child.lines)
        .filter((l) => l["job.outcome"] === "Interrupted")
        .map((l) => l["job.name"])
    ).toEqual(["later"])
    expect(child.lines.filter((l) => String(l.msg).startsWith("exiting with code"))).toHaveLength(0)
  })

  it("an exception thrown outside jobs and program: logged once (fatal), graceful stop, exit 1", async () => {
    const { code, lines, stderr } = await run("test/fixtures/crash.ts", ["throw"])
    expect(code).toBe(1)
    const crash = lines.filter((l) => JSON.stringify(l).includes("thrown from a timer"))
    expect(crash).toHaveLength(1)
    expect(crash[0]).toMatchObject({ level: 60, msg: "uncaught exception; shutting down" })
    expect((crash[0].err as { stack: string }).stack).toContain("crash.ts")
    expect(stderr).not.toContain("thrown from a timer")
    // graceful: the running job was let finish
    expect(outcomes(lines).map((l) => [l["job.name"], l["job.outcome"]])).toEqual([["steady", "Success"]])
  })

  it("an unhandled rejection: logged once (error), graceful stop, exit 1", async () => {
    const { code, lines } = await run("test/fixtures/crash.ts", ["reject"])
    expect(code).toBe(1)
    const crash = lines.filter((l) => JSON.stringify(l).includes("nobody caught this rejection"))
    expect(crash).toHaveLength(1)
    expect(crash[0]).toMatchObject({
      level: 50,
      msg: "unhandled rejection; shutting down",
      err: { name: "RangeError" }
    })
    expect(outcomes(lines).map((l) => [l["job.name"], l["job.outcome"]])).toEqual([["steady", "Success"]])
  })

  it("process.exit called by the program ends the process at once: its code, one error line, no outcomes", async () => {
    const { code, lines } = await run("test/fixtures/process-exit.ts")
    expect(code).toBe(3)
    expect(outcomes(lines)).toHaveLength(0)
    const last = lines[lines.length - 1]
    expect(last).toMatchObject({ level: 50, exitCode: 3, running: 1, queued: 0 })
    expect(String(last.msg)).toContain("process.exit called while runMain was running")
  })

  it("a job that ignores interruption holds a stop at most forceAfter past the grace: its line, exit 1, nothing after", async () => {
    const child = start("test/fixtures/stubborn.ts")
    await child.waitFor(ready)
    child.signal("SIGTERM")
    const { code } = await child.exited
    expect(code).toBe(1)
    const lines = child.lines
    const stuck = lines.filter((l) => l.level === 60 && l.msg.startsWith("job stubborn still running"))
    expect(stuck).toHaveLength(1)
    // logged and interrupted at the end of the grace, as any straggler, before the deadline's line
    expect(lines.filter((l) => l.level === 40 && l["job.name"] === "stubborn").map((l) => l.msg)).toEqual([
      "job stubborn still running at shutdown; interrupting it"
    ])
    expect(stuck[0]).toMatchObject({ level: 60, "job.name": "stubborn" })
    expect(stuck[0].ageMillis).toBeGreaterThanOrEqual(100) // at least the grace (Clock time since it started)
    // the polite job was interrupted at the end of the grace and got its outcome line
    expect(outcomes(lines).map((l) => [l["job.name"], l["job.outcome"]])).toEqual([["polite", "Interrupted"]])
    const last = lines[lines.length - 1]
    expect(last).toMatchObject({ level: 60, exitCode: 1, running: 1, forceAfterMillis: 300 })
    expect(last.msg).toBe("forceAfter passed with 1 job still running: exiting with code 1")
    expect(lines.indexOf(stuck[0])).toBe(lines.length - 2)
  })

  it("a log destination that throws on every write does not keep SIGTERM from ending the process", async () => {
    const child = start("test/fixtures/stubborn.ts", ["throwingLog"])
    await child.waitFor(ready)
    child.signal("SIGTERM")
    const { code, stderr } = await child.exited
    expect(code).toBe(143) // a graceful stop, not the deadline's exit 1
    expect(stderr.match(/a log line could not be written/g)).toHaveLength(1) // one report for the burst
    expect(stderr).toContain("write EPIPE")
  })
})
