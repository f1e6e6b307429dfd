/**
 * A nats-server restarted mid-run (file storage, same port and store), with worker processes: the
 * firing side and the workers reconnect, and every job still ends once — each outcome arrives and
 * is logged once — and the workers go on (they stop cleanly on SIGTERM afterwards).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Chan } from "@tributary/channel"
import { Job } from "@tributary/jobs"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import * as d from "./fixtures/definitions.js"
import { fire, outcomeLines } from "./harness.js"
import { spawnWorker } from "./process.js"
import { available, skipReason, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

describe.skipIf(!available)("a server restart", () => {
  const server = suiteServer()

  it("loses nothing: every job's outcome arrives once, and the worker processes go on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tributary-nats-restart-"))
    const options = { concurrency: 8, maxAckPending: 1000, graceMillis: 5000, ackWaitMillis: 2000 }
    const workers = ["r0", "r1"].map((name) => spawnWorker(server.url, "restart", name, join(dir, "runs.log"), options))
    const total = 400
    let restarted = false
    try {
      await Promise.all(workers.map((w) => w.ready))
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const port = yield* Job.forkAll(
            Array.from({ length: total }, (_, n) => d.slow.make({ n, ms: 10 })),
            { concurrency: total }
          )
          const outcomes: Array<Job.Outcome<number, never>> = []
          for (let o = yield* Chan.take(port); o._tag === "Some"; o = yield* Chan.take(port)) {
            outcomes.push(o.value)
            if (outcomes.length === 50) {
              yield* Effect.promise(() => server.restart())
              restarted = true
            }
          }
          return outcomes
        }),
        { concurrency: total },
        "restart"
      )
      expect(restarted).toBe(true)
      expect(value.length).toBe(total)
      expect(value.every((o) => o._tag === "Success")).toBe(true)
      expect(value.map((o) => (Exit.isSuccess(o.exit) ? o.exit.value : -1)).sort((a, b) => a - b)).toEqual(
        Array.from({ length: total }, (_, n) => n)
      )
      const byId = outcomeLines(lines)
      expect(byId.size).toBe(total)
      expect([...byId.values()].every((ls) => ls.length === 1)).toBe(true)
      // both reconnected and went on: each stops gracefully, having held nothing back
      for (const w of workers) w.kill("SIGTERM")
      expect(await Promise.all(workers.map((w) => w.exited))).toEqual([143, 143])
      for (const w of workers) expect(w.output()).toContain("every job it held was finished or handed back")
    } finally {
      for (const w of workers) w.kill("SIGKILL")
      await Promise.all(workers.map((w) => w.exited))
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
