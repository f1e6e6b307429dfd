/**
 * Guards for documented behaviours a mutation audit found no test failing for: the no-worker warn
 * line comes once two looks in a row found nobody pulling (an idle worker may be between two pull
 * requests at one look), and a look the server did not answer counts neither way. The look is the
 * real one (a real nats-server, no worker), but for the second, which is made to read as
 * unanswered; the supervisor's Clock is a TestClock.
 */
import { Job } from "@tributary/jobs"
import { Effect, Layer, Logger, References } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it, vi } from "vitest"
import { NatsSupervisor } from "../src/index.js"
import * as d from "./fixtures/definitions.js"
import { available, skipReason, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

/** What each look at the workers' consumer gave, in order (the `unanswered`-th read as unanswered). */
const looks = vi.hoisted(() => ({ results: [] as Array<unknown>, unanswered: 2 }))

vi.mock("../src/internal/connection.js", async (importOriginal) => {
  const connection = await importOriginal<typeof import("../src/internal/connection.js")>()
  return {
    ...connection,
    lookAtWorkers: (...args: Parameters<typeof connection.lookAtWorkers>) =>
      Effect.map(connection.lookAtWorkers(...args), (look) => {
        const result = looks.results.length + 1 === looks.unanswered ? undefined : look
        looks.results.push(result)
        return result
      })
  }
})

describe.skipIf(!available)("the no-worker warn line", () => {
  const server = suiteServer()

  it("comes after two idle looks in a row; an unanswered look between them counts neither way", async () => {
    const prefix = "guardlooks"
    /** the looks made when the warn line was written */
    let looksAtWarning: Array<unknown> | undefined
    const recorder = Logger.make((options) => {
      if (options.logLevel === "Warn" && String(options.message).includes("wait for a worker"))
        looksAtWarning ??= [...looks.results]
    })
    await Effect.runPromise(
      Effect.gen(function* () {
        const handle = yield* Job.fork(d.square.make({ n: 3 }))
        // a look every 10 s of the TestClock; each look is real I/O, so the clock is moved on
        // until the line is there (the test's own timeout is the net)
        while (looksAtWarning === undefined) {
          yield* TestClock.adjust("10 seconds")
          yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
        }
        yield* Job.interrupt(handle)
      }).pipe(
        Effect.provide(NatsSupervisor.layer({ servers: server.url, prefix, supervisor: { concurrency: 4 } })),
        Effect.provide(Layer.mergeAll(TestClock.layer(), Logger.layer([recorder]))),
        Effect.provideService(References.MinimumLogLevel, "Info")
      )
    )
    const idle = { idle: true, missing: true } // no worker ever made the consumer
    expect(looksAtWarning).toEqual([idle, undefined, idle])
  }, 60_000)
})
