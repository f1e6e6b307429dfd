/**
 * A firing process whose remote jobs no worker pulls says so: one warn line once the workers'
 * consumer was found idle twice in a row (every 10 s of the supervisor's Clock, a TestClock here),
 * naming the stream, the consumer and how to start a worker; the job runs once a worker starts.
 */

import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Job } from "@tributary/jobs"
import { Deferred, Effect, Exit, Fiber, Layer, Logger, References } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { NatsSupervisor } from "../src/index.js"
import { lookAtWorkers, workersIdle } from "../src/internal/connection.js"
import { namesOf } from "../src/internal/wire.js"
import * as d from "./fixtures/definitions.js"
import { startWorker } from "./harness.js"
import { available, skipReason, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

describe("workersIdle", () => {
  it("idle: no consumer, or one with no pull request waiting and no job in hand", () => {
    expect(workersIdle(undefined)).toBe(true)
    expect(workersIdle({ num_waiting: 0, num_ack_pending: 0 })).toBe(true)
    expect(workersIdle({ num_waiting: 1, num_ack_pending: 0 })).toBe(false) // an idle worker asks
    expect(workersIdle({ num_waiting: 0, num_ack_pending: 3 })).toBe(false) // a busy worker holds jobs
  })
})

describe.skipIf(!available)("a remote job with no worker", () => {
  const server = suiteServer()

  it("a look at the workers: missing before any worker started, not idle while a worker runs a job (busy, no pull waiting)", async () => {
    const prefix = "lookbusy"
    const nc = await connect({ servers: server.url })
    const jsm = await jetstreamManager(nc)
    let worker: ReturnType<typeof startWorker> | undefined
    try {
      // no worker has made the consumer yet (the streams are made by the firing side below)
      const firing = Effect.runFork(
        Effect.gen(function* () {
          yield* Job.fire(d.endless.make({ n: 901 }))
          return yield* Effect.never
        }).pipe(Effect.provide(NatsSupervisor.layer({ servers: server.url, prefix, supervisor: { concurrency: 4 } })))
      )
      const names = namesOf(prefix)
      // the stream is there once the job was published: then the consumer is missing, not unknown
      let before = await Effect.runPromise(lookAtWorkers(jsm, names))
      while (before === undefined || !before.missing) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        before = await Effect.runPromise(lookAtWorkers(jsm, names))
      }
      expect(before).toEqual({ idle: true, missing: true })
      worker = startWorker(server.url, "busy", { definitions: [d.endless], prefix, concurrency: 1 })
      await Effect.runPromise(Deferred.await(d.gateOf(901).started)) // the worker runs it: its one slot is held
      expect(await Effect.runPromise(lookAtWorkers(jsm, names))).toEqual({ idle: false, missing: false })
      await Effect.runPromise(Fiber.interrupt(firing))
    } finally {
      await worker?.stop()
      await nc.close()
    }
  }, 60_000)

  it("one warn line says no worker pulls (stream, consumer, how to start one); the job runs once a worker starts", async () => {
    const prefix = "noworker"
    const warnings: Array<string> = []
    let warned: () => void = () => {}
    const seen = new Promise<void>((resolve) => {
      warned = resolve
    })
    const recorder = Logger.make((options) => {
      const message = String(options.message)
      if (options.logLevel === "Warn" && message.includes("wait for a worker")) {
        warnings.push(message)
        warned()
      }
    })
    let worker: ReturnType<typeof startWorker> | undefined
    try {
      const exit = await Effect.runPromise(
        Effect.gen(function* () {
          const handle = yield* Job.fork(d.square.make({ n: 7 }))
          // the consumer is looked at every 10 s of the TestClock; each look is real I/O, so the
          // clock is moved on until the line is there (the test's own timeout is the net)
          let looked = false
          void seen.then(() => {
            looked = true
          })
          while (!looked) {
            yield* TestClock.adjust("10 seconds")
            yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
          }
          // more looks that find nobody: still the one line
          for (let i = 0; i < 4; i++) {
            yield* TestClock.adjust("10 seconds")
            yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
          }
          worker = startWorker(server.url, "late", { definitions: [d.square], prefix })
          return yield* Job.await(handle)
        }).pipe(
          Effect.provide(NatsSupervisor.layer({ servers: server.url, prefix, supervisor: { concurrency: 4 } })),
          Effect.provide(Layer.mergeAll(TestClock.layer(), Logger.layer([recorder]))),
          Effect.provideService(References.MinimumLogLevel, "Info")
        )
      )
      expect(Exit.isSuccess(exit) && exit.value).toBe(49)
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toBe(
        '1 remote job(s) wait for a worker, and no worker is pulling from NOWORKER_JOBS (consumer noworker-workers does not exist yet): start one with NatsWorker.run({ servers, prefix: "noworker", definitions }); the jobs run once one pulls them'
      )
    } finally {
      await worker?.stop()
    }
  }, 60_000)
})
