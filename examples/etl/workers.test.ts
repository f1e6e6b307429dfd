/**
 * `--workers N --nats URL`: the same sync with fetch and clean on worker processes through a real
 * nats-server (started here on a free port with a temporary store; skipped with one line when the
 * binary is missing). One worker is killed with SIGKILL mid-run: nothing is lost — every record
 * is saved or failed as in-process, each failure logged once by the job, and the exit line counts
 * the jobs run on the workers as started.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Job } from "@tributary/jobs"
import { NatsWorker } from "@tributary/nats"
import { Effect, Fiber, Logger, Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { faultsOf } from "./dataset.js"
import { spawnJob } from "./job-process.js"

const natsServer = ["/usr/sbin/nats-server", "/usr/bin/nats-server"].find((p) => existsSync(p))
if (natsServer === undefined)
  console.log("nats-server is not installed (apt-get install nats-server): --workers test skipped")

const seed = 3
const records = 300

describe.skipIf(natsServer === undefined)("etl --workers", () => {
  let dir: string
  let nats: ChildProcess
  let url: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-etl-workers-"))
    // port -1: nats-server picks a free one and says which (no gap between finding a port and binding it)
    nats = spawn(natsServer!, ["-js", "-sd", join(dir, "nats"), "-p", "-1", "-a", "127.0.0.1"], {
      stdio: ["ignore", "ignore", "pipe"]
    })
    url = await new Promise<string>((resolve, reject) => {
      let log = ""
      nats.stderr!.on("data", (d) => {
        log += d
        const port = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(log)?.[1]
        if (port !== undefined && log.includes("Server is ready")) resolve(`nats://127.0.0.1:${port}`)
      })
      nats.on("exit", (code) => reject(new Error(`nats-server exited (${code}) before it was ready:\n${log}`)))
    })
  })
  afterAll(() => {
    nats?.kill("SIGTERM")
    rmSync(dir, { recursive: true, force: true })
  })

  it("3 workers, one killed with SIGKILL mid-run: every record saved or failed, each failure logged once, the remote jobs counted in the exit line", async () => {
    let killed: number | undefined
    const run = await new Promise<{ code: number | null; summary: Record<string, any>; lines: Array<any> }>(
      (resolve, reject) => {
        const child = spawnJob([
          ...["--json", "--fresh", "--sample", "0", "--seed", String(seed), "--records", String(records)],
          ...["--data-dir", join(dir, "pglite"), "--workers", "3", "--nats", url]
        ])
        let stdout = ""
        let stderr = ""
        let pids: Array<number> = []
        child.stdout!.on("data", (d) => (stdout += d))
        child.stderr!.on("data", (d) => {
          stderr += d
          const m = /worker processes \(pids ([\d, ]+)\)/.exec(stderr)
          if (m !== null && pids.length === 0) pids = m[1].split(", ").map(Number)
          // records are being fetched on the workers: the first outcome line came (a seeded failure,
          // early in the run) or the first progress line (every 2 s: a fast run may end before it)
          const running = stderr.includes('"job.outcome"') || stderr.includes("progress:")
          if (killed === undefined && pids.length > 0 && running) {
            killed = pids[0]
            process.kill(killed, "SIGKILL")
          }
        })
        child.on("error", reject)
        child.on("close", (code) => {
          const lines = stderr
            .split("\n")
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l))
            .filter((l) => l.pid === child.pid) // the job's own lines, not its workers'
          resolve({ code, summary: JSON.parse(stdout.trimEnd().split("\n").at(-1) ?? "{}"), lines })
        })
      }
    )
    expect(killed).toBeGreaterThan(0)
    expect(run.code).toBe(0)
    const faults = faultsOf(seed, records)
    const failed = [...faults.gone, ...faults.dirty]
    expect(run.summary).toMatchObject({
      records,
      saved: records - failed.length,
      notDone: 0,
      dbRows: records - failed.length
    })
    expect(run.summary.failed.partner + run.summary.failed.clean).toBe(failed.length)
    // the seeded transient 500s are retried on the workers, and counted here
    expect(faults.transient.length).toBeGreaterThan(0)
    expect(run.summary.retries).toBeGreaterThan(0)
    // each failed record: one outcome line, with its id
    const failureLines = run.lines.filter((l) => l["job.outcome"] === "Failure")
    expect(failureLines.map((l) => l.recordId).sort((a, b) => a - b)).toEqual(failed.sort((a, b) => a - b))
    // the exit line counts the jobs that ran on the workers as started here: one per record (and
    // the list pages, which run here), each ended once
    const exitLine = run.lines.find((l) => l.msg === "exiting with code 0")
    expect(exitLine["jobs.started"]).toBeGreaterThanOrEqual(records)
    expect(exitLine["jobs.failed"]).toBe(failed.length)
    expect(exitLine["jobs.succeeded"] + exitLine["jobs.failed"]).toBe(exitLine["jobs.started"])
  }, 240_000)

  // last in this file: it leaves the shared consumer with a 30 s ack wait
  it("workers that cannot start (the shared consumer has another ack wait): each says why, the run fails with exit 1 instead of waiting", async () => {
    // another program's worker made the shared consumer with a 30 s ack wait (the docs' example, say),
    const other = Job.define({ name: "other", payload: Schema.Struct({}), run: () => Effect.void })
    let pulling: () => void = () => {}
    const ready = new Promise<void>((resolve) => {
      pulling = resolve
    })
    const previous = Effect.runFork(
      // updateConsumer: the test above left the consumer with the job's 5 s
      NatsWorker.run({
        servers: url,
        definitions: [other],
        concurrency: 1,
        ackWait: "30 seconds",
        updateConsumer: true
      }).pipe(
        Effect.provide(
          Logger.layer([
            Logger.make((options) => {
              if (String(options.message).includes("pulling jobs")) pulling()
            })
          ])
        )
      )
    )
    try {
      await ready // its consumer is made before it pulls
      await Effect.runPromise(Fiber.interrupt(previous))
      const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawnJob([
          ...["--json", "--fresh", "--sample", "0", "--seed", String(seed), "--records", "50"],
          ...["--data-dir", join(dir, "pglite-refused"), "--workers", "2", "--nats", url]
        ])
        let stdout = ""
        let stderr = ""
        child.stdout!.on("data", (d) => (stdout += d))
        child.stderr!.on("data", (d) => (stderr += d))
        child.on("error", reject)
        child.on("close", (code) => resolve({ code, stdout, stderr }))
      })
      expect(run.code).toBe(1)
      // each worker's own refusal reaches the parent's stderr, then the parent says it exited
      const lines = run.stderr.split("\n")
      expect(
        lines.filter((l) => l.includes("expected the ack wait of the workers' consumer tributary-workers"))
      ).toHaveLength(2)
      expect(run.stderr).toMatch(/worker etl-worker-\d \(pid \d+\) exited with code 1 before the sync ended/)
      const summary = JSON.parse(run.stdout.trimEnd().split("\n").at(-1) ?? "{}")
      expect(summary.error).toMatch(/^every worker process exited before the sync ended/)
    } finally {
      await Effect.runPromise(Fiber.interrupt(previous))
    }
  }, 240_000)
})
