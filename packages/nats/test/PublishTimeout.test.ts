/**
 * `publishTimeout` bounds a job's whole publish, against a real nats-server that is stopped after
 * the firing side connected: every try and each one's wait for the stream's ack end within it,
 * counted from the first try (the first try waited its full 5 s ack timeout before the deadline
 * even started, and the last one its full 5 s again: a "2 seconds" timeout failed after 11 s).
 * The ack timeout of a try is 5 s: a job that dies here within the test's 4 s never waited it.
 */
import { Job } from "@tributary/jobs"
import { Cause, Effect, Exit, Logger } from "effect"
import { describe, expect, it } from "vitest"
import { NatsSupervisor } from "../src/index.js"
import * as d from "./fixtures/definitions.js"
import { available, skipReason, startServer } from "./server.js"

if (!available) console.log(skipReason)

describe.skipIf(!available)("publishTimeout", () => {
  it("with the server gone, a job dies with a NatsConnectError naming publishTimeout once it has passed, not after a 5 s ack timeout", async () => {
    const server = await startServer()
    let stopped = false
    try {
      const exit = await Effect.runPromise(
        Effect.gen(function* () {
          yield* Effect.promise(() => server.stop())
          stopped = true
          return yield* Job.await(yield* Job.fork(d.square.make({ n: 3 })))
        }).pipe(
          Effect.provide(NatsSupervisor.layer({ servers: server.url, publishTimeout: "1 second" })),
          Effect.provide(Logger.layer([])) // its failure line: not in the test's output
        )
      )
      const defect = Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined
      expect(defect).toMatchObject({
        _tag: "NatsConnectError",
        servers: server.url,
        message: `cannot reach NATS at ${server.url}: the job's publish was not acked within publishTimeout (1000 ms)`
      })
    } finally {
      if (!stopped) await server.stop()
    }
  }, 4_000)
})
