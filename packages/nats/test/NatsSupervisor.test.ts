/**
 * The firing side and in-process workers against a real nats-server: defined jobs run on the
 * workers, plain Effects locally; outcomes complete Job.all/join and reportTo, each logged once;
 * retries, permanent failures and bad input.
 */
import { Chan } from "@tributary/channel"
import { Job, Supervisor } from "@tributary/jobs"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { NatsSupervisor } from "../src/index.js"
import * as d from "./fixtures/definitions.js"
import { fire, outcomeLines, startWorker } from "./harness.js"
import { available, skipReason, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

describe.skipIf(!available)("NatsSupervisor with in-process workers", () => {
  const server = suiteServer()

  it("defined jobs run on the workers (both take some), plain Effects locally; each outcome logged once", async () => {
    d.runs.length = 0
    const a = startWorker(server.url, "a", { concurrency: 4 })
    const b = startWorker(server.url, "b", { concurrency: 4 })
    try {
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const reported = yield* Chan.make<Job.Outcome<number, never>>(64)
          const all = yield* Job.all(
            Array.from({ length: 40 }, (_, n) => d.slow.make({ n, ms: 20 })),
            { concurrency: 40 }
          )
          const joined = yield* Job.join(yield* Job.fork(d.square.make({ n: 9 })))
          yield* Job.fire(d.square.make({ n: 3 }), { reportTo: reported })
          const local = yield* Job.join(yield* Job.fork(Effect.sync(() => process.pid)))
          yield* Supervisor.drain
          return { all, joined, reported: yield* Chan.take(reported), local }
        })
      )
      expect(value.all.map((o) => (Exit.isSuccess(o.exit) ? o.exit.value : o.exit))).toEqual(
        Array.from({ length: 40 }, (_, n) => n)
      )
      expect(value.all[7]).toMatchObject({ _tag: "Success", name: "slow-7", payload: { n: 7, ms: 20 } })
      expect(value.joined).toBe(81)
      expect(value.reported._tag === "Some" && value.reported.value.exit).toMatchObject({ _tag: "Success", value: 9 })
      expect(value.local).toBe(process.pid)
      // every defined job ran once on a worker; both workers took some
      const slowRuns = d.runs.filter(([def]) => def === "slow")
      expect(slowRuns.map(([, n]) => n).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, n) => n))
      expect(new Set(slowRuns.map(([, , w]) => w))).toEqual(new Set(["a", "b"]))
      // one outcome line per job: 40 + 2 squares + 1 local
      const byId = outcomeLines(lines)
      expect(byId.size).toBe(43)
      expect([...byId.values()].every((ls) => ls.length === 1)).toBe(true)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it("a typed failure is retried by redelivery; a permanent failure is final at once; errors keep their tag", async () => {
    d.runs.length = 0
    const w = startWorker(server.url, "retrying", { attempts: 2, retryDelay: "10 millis" })
    try {
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const flaky = yield* Job.fork(d.flaky.make({ n: 1 }))
          const broken = yield* Job.fork(d.broken.make({ n: 2 }))
          const crashing = yield* Job.fork(d.crashing.make({ n: 3 }))
          const caught = yield* Job.join(yield* Job.fork(d.broken.make({ n: 4 }))).pipe(
            Effect.catchTag("Flaky", (e) => Effect.succeed(`caught ${e.message}`))
          )
          return {
            flaky: yield* Job.await(flaky),
            broken: yield* Job.await(broken),
            crashing: yield* Job.await(crashing),
            caught
          }
        })
      )
      expect(value.flaky).toMatchObject({ _tag: "Success", value: 1 })
      expect(Exit.isFailure(value.broken) && Exit.findErrorOption(value.broken)).toMatchObject({
        _tag: "Some",
        value: { _tag: "Flaky", n: 2, message: "broken 2" }
      })
      expect(value.caught).toBe("caught broken 4")
      expect(Exit.isFailure(value.crashing) && Exit.hasDies(value.crashing)).toBe(true)
      const count = (def: string, n: number) => d.runs.filter(([x, m]) => x === def && m === n).length
      expect([count("flaky", 1), count("broken", 2), count("crashing", 3)]).toEqual([2, 2, 1])
      expect([...outcomeLines(lines).values()].map((ls) => ls.length)).toEqual([1, 1, 1, 1])
    } finally {
      await w.stop()
    }
  })

  it("an unknown definition and a payload that does not decode fail with typed errors; the worker keeps going", async () => {
    const w = startWorker(server.url, "strict")
    try {
      const { value } = await fire(
        server.url,
        Effect.gen(function* () {
          const unknown = yield* Job.await(yield* Job.fork(d.unknown.make({ n: 1 })))
          const undecodable = yield* Job.await(yield* Job.fork(d.squareOfText.make({ text: "five" })))
          const after = yield* Job.join(yield* Job.fork(d.square.make({ n: 5 })))
          return { unknown, undecodable, after }
        })
      )
      expect(Exit.isFailure(value.unknown) && Exit.findErrorOption(value.unknown)).toMatchObject({
        value: { _tag: "UnknownDefinitionError", definition: "nobody-runs-this", worker: "strict" }
      })
      expect(Exit.isFailure(value.undecodable) && Exit.findErrorOption(value.undecodable)).toMatchObject({
        value: { _tag: "PayloadDecodeError", definition: "square", payload: { text: "five" } }
      })
      // the payload is in its field (where a redact path reaches it), never in the message
      const message = Exit.isFailure(value.undecodable)
        ? (Exit.findErrorOption(value.undecodable) as { value: { message: string } }).value.message
        : ""
      expect(message).toMatch(/^the payload of job "square" does not decode \(it is in this error's payload field\): /)
      expect(message).not.toContain("five")
      expect(value.after).toBe(25)
    } finally {
      await w.stop()
    }
  })

  it("dispatcher: defined jobs fired under the supervisor in context run on the workers and are counted by it", async () => {
    d.runs.length = 0
    const w = startWorker(server.url, "shared", { concurrency: 4 })
    try {
      const { all, snapshot, local } = await Effect.runPromise(
        Effect.gen(function* () {
          const all = yield* Job.all(
            Array.from({ length: 10 }, (_, n) => d.square.make({ n })),
            { concurrency: 10 }
          )
          const local = yield* Job.join(yield* Job.fork(Effect.succeed("here")))
          return { all, local, snapshot: yield* Supervisor.snapshot }
        }).pipe(
          Effect.provide(NatsSupervisor.dispatcher({ servers: server.url })),
          Effect.provide(Supervisor.layer({ concurrency: 100 }))
        )
      )
      expect(all.map((o) => (Exit.isSuccess(o.exit) ? o.exit.value : o.exit))).toEqual(
        Array.from({ length: 10 }, (_, n) => n * n)
      )
      expect(local).toBe("here")
      // the supervisor in context started and ended the 10 remote jobs and the local one
      expect(snapshot.counters).toMatchObject({ started: 11, succeeded: 11 })
      expect(d.runs.filter(([def]) => def === "square").map(([, , worker]) => worker)).toEqual(
        Array.from({ length: 10 }, () => "shared")
      )
    } finally {
      await w.stop()
    }
  })

  it("a server that cannot be reached fails the layer with NatsConnectError naming the URL", async () => {
    const exit = await Effect.runPromiseExit(
      Supervisor.snapshot.pipe(Effect.provide(NatsSupervisor.layer({ servers: "nats://127.0.0.1:1" })))
    )
    expect(Exit.isFailure(exit) && Exit.findErrorOption(exit)).toMatchObject({
      value: { _tag: "NatsConnectError", servers: "nats://127.0.0.1:1" }
    })
  })
})
