/**
 * Runs each job example as a user would (a separate Node process through tsx) and checks its pino
 * lines and exit code.
 */
import { execFile } from "node:child_process"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

type Line = Record<string, unknown>

const root = join(import.meta.dirname, "..")

/** Runs `file` to its end: its exit code and its pino lines. */
const run = (file: string): Promise<{ code: number | null; lines: Array<Line> }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--conditions=tributary:source", "--import", "tsx", join(root, file)],
      { cwd: root, timeout: 60_000 },
      (error, stdout) =>
        resolve({
          code: error ? (error.code as number | null) : 0,
          lines: stdout
            .split("\n")
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l) as Line)
        })
    )
  })

const outcomes = (lines: ReadonlyArray<Line>): Array<Line> => lines.filter((l) => "job.outcome" in l)

const named = (lines: ReadonlyArray<Line>) => Object.fromEntries(lines.map((l) => [l["job.name"], l["job.outcome"]]))

describe("examples/jobs", () => {
  it("01-fire-and-forget: every sub-job's outcome is logged, every failure with its error, exit 0", async () => {
    const { code, lines } = await run("examples/01-fire-and-forget/main.ts")
    expect(code).toBe(0)
    expect(named(outcomes(lines))).toEqual({
      "sync-all": "Success",
      "sync-1": "Success",
      "sync-2": "Success",
      "sync-3": "Failure",
      "sync-4": "Failure",
      "sync-5": "Failure",
      "sync-6": "Success"
    })
    const errors = outcomes(lines)
      .filter((l) => l["job.outcome"] === "Failure")
      .map((l) => [l.recordId, (l.err as { name: string }).name, (l.err as { message: string }).message])
      .sort()
    expect(errors).toEqual([
      [3, "PartnerError", "GET /records/3: 503"],
      [4, "CleanError", "record 4: title has no letters after cleaning"],
      [5, "DbError", "INSERT record 5: deadlock detected"]
    ])
    // the program ended only after the last sub-job
    expect(lines[lines.length - 1]).toMatchObject({ msg: "exiting with code 0", "jobs.started": 7 })
  })

  it("02-tracked: handles, a results channel and Job.all agree on what was saved", async () => {
    const { code, lines } = await run("examples/02-tracked/main.ts")
    expect(code).toBe(0)
    const summaries = lines.filter((l) => "step" in l).map((l) => [l.step, l.succeeded, l.failed])
    expect(summaries).toEqual([
      ["handles", [1, 2, 6], [3, 4, 5]],
      ["channel", [1, 2, 6], [3, 4, 5]],
      ["all", [1, 2, 6], [3, 4, 5]]
    ])
    expect(outcomes(lines)).toHaveLength(18)
    expect(outcomes(lines).filter((l) => l["job.outcome"] === "Failure")).toHaveLength(9)
    expect(lines[lines.length - 1]).toMatchObject({ msg: "exiting with code 0", exitCode: 0 })
  })
})
