/**
 * Whole-process tests: worker child processes pull the jobs fired here, against a real
 * nats-server. A worker killed with SIGKILL mid-run loses nothing (its in-flight jobs run again
 * after the ack wait, and only those); the bound `maxAckPending` holds across workers, sampled
 * inside the jobs; a worker stopped with SIGTERM hands its jobs back at once (the ack wait is
 * longer than the test's timeout, so a job left to it would fail the test); a remote job interrupted
 * in the firing process stops inside the worker process and its message is termed; a worker whose
 * server cannot be reached at start exits 1 naming the URL.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, watch } from "node:fs"
import { tmpdir } from "node:os"
import { basename, dirname, join } from "node:path"
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Chan } from "@tributary/channel"
import { Job } from "@tributary/jobs"
import { Effect, Exit } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { namesOf } from "../src/internal/wire.js"
import * as d from "./fixtures/definitions.js"
import { fire, outcomeLines, outcomeTags } from "./harness.js"
import { spawnWorker, type WorkerProcess } from "./process.js"
import { available, type NatsServer, skipReason, startServer } from "./server.js"

if (!available) console.log(skipReason)

/** the runs file's events: [start|end, definition, n, worker] */
const eventsOf = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split(" ") as [string, string, string, string])

/** Resolves once the runs file holds `line` (watched, not polled). */
const untilEvent = (file: string, line: string): Promise<void> =>
  new Promise((resolve) => {
    const holds = () => existsSync(file) && readFileSync(file, "utf8").split("\n").includes(line)
    if (holds()) return resolve()
    const watcher = watch(dirname(file), (_, name) => {
      if (name === basename(file) && holds()) {
        watcher.close()
        resolve()
      }
    })
    if (holds()) {
      watcher.close()
      resolve()
    }
  })

describe.skipIf(!available)("NatsWorker processes", () => {
  let server: NatsServer
  let dir: string
  const workers: Array<WorkerProcess> = []
  beforeAll(async () => {
    server = await startServer()
    dir = mkdtempSync(join(tmpdir(), "tributary-nats-runs-"))
  })
  afterAll(async () => {
    for (const w of workers) w.kill("SIGKILL")
    await Promise.all(workers.map((w) => w.exited))
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  const defaults = { concurrency: 8, maxAckPending: 1000, graceMillis: 5000, ackWaitMillis: 2000 }
  /** a worker process of the streams named by `prefix` (one per test) */
  const start = (prefix: string, name: string, runs: string, options: Partial<typeof defaults> = {}) => {
    const w = spawnWorker(server.url, prefix, name, runs, { ...defaults, ...options })
    workers.push(w)
    return w
  }

  it("3 workers, 2,000 jobs, one killed with SIGKILL mid-run: every outcome arrives, logged once; re-runs only of its in-flight jobs", async () => {
    const runs = join(dir, "kill.log")
    const ws = ["k0", "k1", "k2"].map((name) => start("kill", name, runs))
    await Promise.all(ws.map((w) => w.ready))
    const total = 2000
    const { value, lines } = await fire(
      server.url,
      Effect.gen(function* () {
        const port = yield* Job.forkAll(
          Array.from({ length: total }, (_, n) => d.slow.make({ n, ms: 5 })),
          { concurrency: total }
        )
        const outcomes: Array<Job.Outcome<number, never>> = []
        for (let o = yield* Chan.take(port); o._tag === "Some"; o = yield* Chan.take(port)) {
          outcomes.push(o.value)
          if (outcomes.length === 300) ws[0].kill("SIGKILL")
        }
        return outcomes
      }),
      { concurrency: total },
      "kill"
    )
    expect(await ws[0].exited).toBe(null) // killed
    expect(value.length).toBe(total)
    expect(value.every((o) => o._tag === "Success")).toBe(true)
    expect(value.map((o) => (Exit.isSuccess(o.exit) ? o.exit.value : -1)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: total }, (_, n) => n)
    )
    const byId = outcomeLines(lines)
    expect(byId.size).toBe(total)
    expect([...byId.values()].every((ls) => ls.length === 1)).toBe(true)
    // every job ran; a job that ran twice had a run on the killed worker, which held at most 2 × 8
    const starts = eventsOf(runs).filter(([e]) => e === "start")
    const byN = new Map<string, Array<string>>()
    for (const [, , n, w] of starts) byN.set(n, [...(byN.get(n) ?? []), w])
    expect(byN.size).toBe(total)
    const rerun = [...byN.entries()].filter(([, ws]) => ws.length > 1)
    expect(rerun.every(([, ws]) => ws.includes("k0"))).toBe(true)
    expect(rerun.length).toBeLessThanOrEqual(16)
    expect(starts.some(([, , , w]) => w === "k0")).toBe(true) // it did take jobs before it died
    for (const w of ws.slice(1)) w.kill("SIGTERM")
    expect(await Promise.all(ws.slice(1).map((w) => w.exited))).toEqual([143, 143])
  }, 120_000)

  it("maxAckPending bounds the jobs running across all workers (sampled inside the jobs)", async () => {
    const runs = join(dir, "bound.log")
    const ws = ["b0", "b1", "b2"].map((name) => start("bound", name, runs, { maxAckPending: 5 }))
    await Promise.all(ws.map((w) => w.ready))
    const { value } = await fire(
      server.url,
      Job.all(
        Array.from({ length: 60 }, (_, n) => d.slow.make({ n, ms: 20 })),
        { concurrency: 60 }
      ),
      undefined,
      "bound"
    )
    expect(value.every((o) => o._tag === "Success")).toBe(true)
    let running = 0
    let most = 0
    for (const [e] of eventsOf(runs)) {
      running += e === "start" ? 1 : -1
      most = Math.max(most, running)
    }
    expect(most).toBeLessThanOrEqual(5)
    expect(most).toBeGreaterThan(1) // the workers did run jobs side by side
    for (const w of ws) w.kill("SIGTERM")
    expect(await Promise.all(ws.map((w) => w.exited))).toEqual([143, 143, 143])
    // held back by the bound, the pull requests waited: none was ended by the server with an error
    for (const w of ws) expect(w.output()).not.toContain("pulling jobs:")
  }, 120_000)

  it("a worker stopped with SIGTERM hands back its jobs at once: they finish on another well before the ack wait", async () => {
    const runs = join(dir, "term.log")
    // a job not handed back would wait out the 10 minute ack wait: the test would time out
    const long = { ackWaitMillis: 600_000 }
    const first = start("term", "t0", runs, { ...long, concurrency: 4, graceMillis: 50 })
    const second = start("term", "t1", runs, long)
    await Promise.all([first.ready, second.ready])
    const { value } = await fire(
      server.url,
      Effect.gen(function* () {
        const port = yield* Job.forkAll(
          Array.from({ length: 20 }, (_, n) => d.slow.make({ n, ms: 300 })),
          { concurrency: 20 }
        )
        const outcomes: Array<Job.Outcome<number, never>> = []
        for (let o = yield* Chan.take(port); o._tag === "Some"; o = yield* Chan.take(port)) {
          outcomes.push(o.value)
          if (outcomes.length === 1) first.kill("SIGTERM")
        }
        return outcomes
      }),
      undefined,
      "term"
    )
    expect(await first.exited).toBe(143)
    expect(value.length).toBe(20)
    expect(value.every((o) => o._tag === "Success")).toBe(true)
    expect(first.output()).toContain("every job it held was finished or handed back")
    const starts = eventsOf(runs).filter(([e]) => e === "start")
    // every job t0 did not finish ran on t1
    const events = eventsOf(runs)
    const finishedOnT0 = new Set(events.filter(([e, , , w]) => e === "end" && w === "t0").map(([, , n]) => n))
    const startedOnT1 = new Set(starts.filter(([, , , w]) => w === "t1").map(([, , n]) => n))
    expect(finishedOnT0.size).toBeLessThan(20)
    for (let n = 0; n < 20; n++) expect(finishedOnT0.has(String(n)) || startedOnT1.has(String(n))).toBe(true)
    second.kill("SIGTERM")
    expect(await second.exited).toBe(143)
  }, 120_000)
  it("a remote job interrupted here stops inside the worker process; its message is termed, not redelivered", async () => {
    const runs = join(dir, "cancel.log")
    const w = start("xcancel", "c0", runs)
    await w.ready
    const { value, lines } = await fire(
      server.url,
      Effect.gen(function* () {
        const h = yield* Job.fork(d.endless.make({ n: 701 }))
        yield* Effect.promise(() => untilEvent(runs, "start endless 701 c0")) // running in the worker process
        yield* Job.interrupt(h)
        const exit = yield* Job.await(h)
        // seen inside the job there (a generous safety net on a wait the test expects to end)
        yield* Effect.timeout(
          Effect.promise(() => untilEvent(runs, "interrupted endless 701 c0")),
          "20 seconds"
        )
        return { id: h.id, exit }
      }),
      undefined,
      "xcancel"
    )
    expect(Exit.hasInterrupts(value.exit)).toBe(true)
    expect(outcomeTags(lines, value.id)).toEqual(["Interrupted"])
    w.kill("SIGTERM")
    expect(await w.exited).toBe(143)
    // the worker termed the message before it exited: nothing is left to redeliver
    const names = namesOf("xcancel")
    const nc = await connect({ servers: server.url })
    try {
      const jsm = await jetstreamManager(nc)
      const stream = await jsm.streams.info(names.jobsStream)
      const consumer = await jsm.consumers.info(names.jobsStream, names.consumer)
      expect([stream.state.messages, consumer.num_pending, consumer.num_ack_pending]).toEqual([0, 0, 0])
    } finally {
      await nc.close()
    }
    expect(eventsOf(runs).map((e) => e.join(" "))).toEqual(["start endless 701 c0", "interrupted endless 701 c0"])
  }, 120_000)

  it("a worker process whose server cannot be reached at start exits 1 with a NatsConnectError naming the URL", async () => {
    const url = "nats://127.0.0.1:1" // nothing listens on port 1 (reserved, below 1024)
    const w = spawnWorker(url, "unreachable", "u0", join(dir, "unreachable.log"), defaults)
    workers.push(w)
    expect(await w.exited).toBe(1)
    expect(w.output()).toContain("NatsConnectError")
    expect(w.output()).toContain(url)
  }, 120_000)
})
