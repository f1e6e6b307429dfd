/**
 * A nats-server restarted mid-run (file storage, same port and store): the firing side and the
 * workers reconnect, and every job still ends once — each outcome arrives and is logged once.
 */
import { Chan } from "@tributary/channel"
import { Job } from "@tributary/jobs"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import * as d from "./fixtures/definitions.js"
import { fire, outcomeLines, startWorker } from "./harness.js"
import { available, skipReason, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

describe.skipIf(!available)("a server restart", () => {
  const server = suiteServer()

  it("loses nothing: every job's outcome arrives once", async () => {
    const workers = [
      startWorker(server.url, "r0", { prefix: "restart" }),
      startWorker(server.url, "r1", { prefix: "restart" })
    ]
    const total = 400
    let restarted = false
    try {
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
    } finally {
      await Promise.all(workers.map((w) => w.stop()))
    }
  }, 120_000)
})
