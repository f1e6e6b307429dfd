/**
 * What an operator meets in production, against a real nats-server with in-process workers: the
 * workers' consumer deleted under a running worker (the worker makes it again and keeps pulling,
 * with a warning saying so); a job whose outcome is larger than the server's `max_payload` (it
 * ends at once, on both sides, with a `MessageTooLargeError` defect naming the sizes, instead of
 * retrying the publish for ever); a job whose payload is too large to publish (the same error, at
 * once, instead of a minute of retries ending in a `NatsConnectError`).
 */
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Job } from "@tributary/jobs"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { namesOf } from "../src/internal/wire.js"
import * as d from "./fixtures/definitions.js"
import { fire, startWorker } from "./harness.js"
import { available, skipReason, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

/** a generous safety net on a wait that the test expects to end */
const within = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.timeout(effect, "20 seconds")

describe.skipIf(!available)("faults an operator meets", () => {
  const server = suiteServer()

  it("the workers' consumer deleted under a running worker: it makes the consumer again, says so, and the next job runs", async () => {
    const prefix = "faultconsumer"
    const names = namesOf(prefix)
    const w = startWorker(server.url, "w", { prefix })
    const nc = await connect({ servers: server.url })
    try {
      const jsm = await jetstreamManager(nc)
      const { value } = await fire(
        server.url,
        Effect.gen(function* () {
          const before = yield* within(Effect.flatMap(Job.fork(d.square.make({ n: 3 })), Job.join))
          // the worker is idle, its pull request outstanding: the server ends it with 409 Consumer Deleted
          yield* Effect.promise(() => jsm.consumers.delete(names.jobsStream, names.consumer))
          const after = yield* within(Effect.flatMap(Job.fork(d.square.make({ n: 4 })), Job.join))
          return [before, after]
        }),
        undefined,
        prefix
      )
      expect(value).toEqual([9, 16])
      expect(w.lines.filter((l) => l.level === "Warn").map((l) => l.message)).toContainEqual(
        expect.stringContaining("409 Consumer Deleted")
      )
      expect((await jsm.consumers.info(names.jobsStream, names.consumer)).config.durable_name).toBe(names.consumer)
    } finally {
      await w.stop()
      await nc.close()
    }
  })
})
