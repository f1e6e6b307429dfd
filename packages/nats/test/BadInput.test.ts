/**
 * Bad input a new user gives, against a real nats-server: a definition whose `run` throws or
 * returns no Effect (the job dies with a typed defect, the worker goes on), a payload JSON cannot
 * carry (the job dies at once in the firing process, never published), and two prefixes that name
 * the same streams (a typed error naming the prefix).
 */
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Job, Supervisor, SupervisorConfigError } from "@tributary/jobs"
import { Cause, Data, Duration, Effect, Exit, Layer, Logger, References, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { NatsSupervisor, NatsWorker } from "../src/index.js"
import { MAX_SERVER_MILLIS, millisOf, resolveCommon } from "../src/internal/options.js"
import * as d from "./fixtures/definitions.js"
import { fire, type Line, outcomeLines, recorder, startWorker } from "./harness.js"
import { available, skipReason, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

const N = Schema.Struct({ n: Schema.Number })
const throwing = Job.define({
  name: "throwing",
  payload: N,
  run: ({ n }): Effect.Effect<number> => {
    throw new Error(`thrown ${n}`)
  }
})
const promising = Job.define({
  name: "promising",
  payload: N,
  run: (({ n }: { n: number }) => Promise.resolve(n)) as unknown as (p: { n: number }) => Effect.Effect<number>
})

/** what `anything` and `nothing` ran with, in this process (the workers here are in-process) */
const received: Array<unknown> = []
const anything = Job.define({
  name: "anything",
  payload: Schema.Unknown,
  run: (p) => Effect.sync(() => received.push(p))
})
const dated = Job.define({
  name: "dated",
  payload: Schema.Struct({ at: Schema.Date }),
  run: ({ at }) => Effect.sync(() => received.push(at))
})
const nothing = Job.define({
  name: "nothing",
  payload: Schema.Undefined,
  run: (p) => Effect.sync(() => received.push(p === undefined ? "undefined" : p))
})

/** the name and key its job had on the worker */
const named = Job.define({
  name: "named",
  payload: N,
  run: () =>
    Effect.withFiber((fiber) => {
      const annotations = fiber.getRef(References.CurrentLogAnnotations)
      return Effect.succeed([annotations["job.name"], annotations["job.key"]])
    })
})

/** an HTTP error holding its request, which holds it: a cycle */
class HttpError extends Data.TaggedError("HttpError")<{ readonly status: number; readonly request: unknown }> {}
const cyclic = (): Record<string, unknown> => {
  const response: Record<string, unknown> = { status: 500 }
  response.request = { response }
  return response
}
const loops = Job.define({
  name: "loops",
  payload: Schema.Literals(["value", "failure", "defect"]),
  run: (what) =>
    what === "value"
      ? Effect.succeed(cyclic())
      : what === "failure"
        ? Effect.fail(new HttpError({ status: 500, request: cyclic() }))
        : Effect.die(Object.assign(new Error("crashed"), { response: cyclic() }))
})

/** the defect of a failed exit */
const defectOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined

describe("bad options", () => {
  it("a count that is NaN is named as NaN (JSON would say null)", async () => {
    const exit = await Effect.runPromiseExit(
      NatsWorker.run({ servers: "nats://127.0.0.1:1", definitions: [d.square], concurrency: Number.NaN })
    )
    expect(Exit.isFailure(exit) && Exit.findErrorOption(exit)).toMatchObject({
      value: {
        _tag: "NatsArgumentError",
        argument: "concurrency",
        message: "Invalid NatsWorker.run concurrency: expected an integer ≥ 1, received NaN"
      }
    })
  })

  it("an ackWait under 1 second is a NatsArgumentError (with 1 ms a live worker's jobs were redelivered to it, run up to 6 times)", async () => {
    const exit = await Effect.runPromiseExit(
      NatsWorker.run({ servers: "nats://127.0.0.1:1", definitions: [d.square], ackWait: "999 millis" })
    )
    expect(Exit.isFailure(exit) && Exit.findErrorOption(exit)).toMatchObject({
      value: {
        _tag: "NatsArgumentError",
        argument: "ackWait",
        value: "999 millis",
        message: expect.stringMatching(/^Invalid NatsWorker\.run ackWait: expected a duration of at least 1 second \(/)
      }
    })
  })

  it("an outcomeMaxAge under 1 second is a NatsArgumentError naming the layer", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(Layer.build(NatsSupervisor.layer({ servers: "nats://127.0.0.1:1", outcomeMaxAge: 999 })))
    )
    expect(Exit.isFailure(exit) && Exit.findErrorOption(exit)).toMatchObject({
      value: {
        _tag: "NatsArgumentError",
        argument: "outcomeMaxAge",
        value: 999,
        message: expect.stringMatching(
          /^Invalid NatsSupervisor\.layer outcomeMaxAge: expected a duration of at least 1 second \(.*\), received 999$/
        )
      }
    })
  })

  it("a misspelt option names the function and the option meant, and lists the known ones", async () => {
    const worker = await Effect.runPromiseExit(
      NatsWorker.run({ servers: "nats://127.0.0.1:1", definitions: [d.square], concurency: 2 } as never)
    )
    expect(Exit.isFailure(worker) && Exit.findErrorOption(worker)).toMatchObject({
      value: {
        _tag: "NatsArgumentError",
        argument: "concurency",
        value: 2,
        message:
          "Invalid NatsWorker.run concurency: expected a known option (did you mean concurrency?); the known ones are servers, prefix, definitions, concurrency, pools, name, ackWait, maxAckPending, updateConsumer, attempts, retryDelay, grace, received 2"
      }
    })
    const dispatcher = await Effect.runPromiseExit(
      Effect.scoped(
        Layer.build(NatsSupervisor.dispatcher({ servers: "nats://127.0.0.1:1", publishTimout: "1 second" } as never))
      )
    )
    expect(Exit.isFailure(dispatcher) && Exit.findErrorOption(dispatcher)).toMatchObject({
      value: {
        _tag: "NatsArgumentError",
        argument: "publishTimout",
        value: "1 second",
        message: expect.stringMatching(
          /^Invalid NatsSupervisor\.dispatcher publishTimout: expected a known option \(did you mean publishTimeout\?\); the known ones are servers, prefix, publishTimeout, publishWindow, outcomeMaxAge, received "1 second"$/
        )
      }
    })
    // nothing close: no suggestion
    const far = await Effect.runPromiseExit(
      resolveCommon("NatsWorker.run", { servers: "nats://127.0.0.1:1", zzz: 1 } as never)
    )
    expect(Exit.isFailure(far) && Exit.findErrorOption(far)).toMatchObject({
      value: { argument: "zzz", message: expect.not.stringContaining("did you mean") }
    })
  })

  it("a duration object with a unit effect does not read is refused, not read without it (effect read { seconds: 1, sec: 5 } as 1 second)", async () => {
    for (const grace of [{ seconds: 1, sec: 5 }, { second: 5 }, {}, { seconds: Number.NaN, milliseconds: 5 }]) {
      const exit = await Effect.runPromiseExit(
        NatsWorker.run({ servers: "nats://127.0.0.1:1", definitions: [d.square], grace: grace as never })
      )
      expect(Exit.isFailure(exit) && Exit.findErrorOption(exit), JSON.stringify(grace)).toMatchObject({
        value: {
          _tag: "NatsArgumentError",
          argument: "grace",
          value: grace,
          message: expect.stringContaining(
            "expected a positive, finite duration (an object takes units such as seconds or milliseconds, each a number)"
          )
        }
      })
    }
    // a well-formed object, a Duration and a [seconds, nanos] pair are taken
    for (const grace of [{ seconds: 1, milliseconds: 500 }, Duration.seconds(2), [1, 0] as const]) {
      const exit = await Effect.runPromiseExit(millisOf("NatsWorker.run", "grace", grace, "10 seconds"))
      expect(Exit.isSuccess(exit), String(grace)).toBe(true)
    }
  })
})

describe("servers and durations the server cannot take", () => {
  const errorOf = (exit: Exit.Exit<unknown, unknown>) => Exit.isFailure(exit) && Exit.findErrorOption(exit)

  it("a malformed server URL, or one of a scheme this client does not speak, is a NatsArgumentError naming servers, before any connection (it was 'Invalid URL', or dialled as host:port)", async () => {
    for (const url of [
      "not a url",
      "http://127.0.0.1:1",
      "ws://127.0.0.1:1",
      "nats://127.0.0.1:99999",
      "nats://h:1/path"
    ]) {
      const exit = await Effect.runPromiseExit(
        resolveCommon("NatsWorker.run", { servers: ["nats://127.0.0.1:4222", url] })
      )
      expect(errorOf(exit)).toMatchObject({ value: { _tag: "NatsArgumentError", argument: "servers", value: url } })
      const worker = await Effect.runPromiseExit(NatsWorker.run({ servers: url, definitions: [d.square] }))
      expect(errorOf(worker)).toMatchObject({ value: { _tag: "NatsArgumentError", argument: "servers" } })
    }
    // credentials stay hidden in the error
    const hidden = await Effect.runPromiseExit(
      resolveCommon("NatsWorker.run", { servers: "http://user:secret@127.0.0.1:1" })
    )
    expect(errorOf(hidden)).toMatchObject({ value: { argument: "servers", value: "http://***@127.0.0.1:1" } })
    expect(String(hidden)).not.toContain("secret")
  })

  it("a misspelt option or a null one is a NatsArgumentError naming it, before any connection (it was ignored: the default, silently)", async () => {
    const url = "nats://127.0.0.1:1" // nothing listens: a connection attempt would be a NatsConnectError
    const cases: ReadonlyArray<[string, Effect.Effect<unknown, unknown>]> = [
      ["concurency", NatsWorker.run({ servers: url, definitions: [d.square], concurency: 4 } as never)],
      ["attempts", NatsWorker.run({ servers: url, definitions: [d.square], attempts: null } as never)],
      [
        "publishTimout",
        Effect.scoped(Layer.build(NatsSupervisor.dispatcher({ servers: url, publishTimout: 5 } as never)))
      ],
      ["supervisor", Effect.scoped(Layer.build(NatsSupervisor.dispatcher({ servers: url, supervisor: {} } as never)))],
      ["prefix", Effect.scoped(Layer.build(NatsSupervisor.layer({ servers: url, prefix: null } as never)))]
    ]
    for (const [argument, effect] of cases) {
      const exit = await Effect.runPromiseExit(effect)
      expect(errorOf(exit), argument).toMatchObject({ value: { _tag: "NatsArgumentError", argument } })
    }
  })

  it("the forms the client dials are taken: host, host:port, nats://, tls://, credentials, IPv6", async () => {
    const servers = [
      "127.0.0.1",
      "127.0.0.1:4222",
      "localhost:4222",
      "nats://127.0.0.1:4222",
      "NATS://127.0.0.1:4222/",
      "tls://nats.example.com:4443",
      "nats://user:p%40ss@127.0.0.1:4222",
      "[::1]:4222",
      "nats://[::1]:4222"
    ]
    for (const url of servers) {
      const exit = await Effect.runPromiseExit(resolveCommon("NatsWorker.run", { servers: url }))
      expect(Exit.isSuccess(exit), url).toBe(true)
    }
  })

  it("a duration past the server's int64 nanoseconds (about 292 years) is a NatsArgumentError naming the option, the value and the bound (it was a NatsConnectError: 'invalid JSON', 'consumer not found')", async () => {
    const huge = "100000000 days"
    const bound = `at most ${MAX_SERVER_MILLIS} ms`
    const supervisor = await Effect.runPromiseExit(
      Effect.scoped(Layer.build(NatsSupervisor.layer({ servers: "nats://127.0.0.1:1", outcomeMaxAge: huge })))
    )
    expect(errorOf(supervisor)).toMatchObject({
      value: {
        _tag: "NatsArgumentError",
        argument: "outcomeMaxAge",
        value: huge,
        message: expect.stringContaining(bound)
      }
    })
    const ackWait = await Effect.runPromiseExit(
      NatsWorker.run({ servers: "nats://127.0.0.1:1", definitions: [d.square], ackWait: huge })
    )
    expect(errorOf(ackWait)).toMatchObject({
      value: { _tag: "NatsArgumentError", argument: "ackWait", value: huge, message: expect.stringContaining(bound) }
    })
    // its last nak's delay is retryDelay × the delivery number: bounded by the bound / attempts
    const retryDelay = await Effect.runPromiseExit(
      NatsWorker.run({ servers: "nats://127.0.0.1:1", definitions: [d.square], retryDelay: "36500 days", attempts: 3 })
    )
    expect(errorOf(retryDelay)).toMatchObject({
      value: {
        _tag: "NatsArgumentError",
        argument: "retryDelay",
        message: expect.stringContaining(`at most ${Math.floor(MAX_SERVER_MILLIS / 3)} ms`)
      }
    })
    // the bound itself is taken (the unreachable server is what fails)
    const atBound = await Effect.runPromiseExit(
      Effect.scoped(
        Layer.build(
          NatsSupervisor.layer({ servers: "nats://127.0.0.1:1", outcomeMaxAge: Duration.millis(MAX_SERVER_MILLIS) })
        )
      )
    )
    expect(errorOf(atBound)).toMatchObject({ value: { _tag: "NatsConnectError" } })
  })
})

describe("bad options of the firing side", () => {
  it("an outcomeMaxAge under 1 second is a NatsArgumentError, before any connection (it was a NatsConnectError: 'cannot reach NATS … max age needs to be >= 100ms')", async () => {
    for (const outcomeMaxAge of ["1 nanos", "50 millis", "999 millis"] as const) {
      const exit = await Effect.runPromiseExit(
        Effect.scoped(Layer.build(NatsSupervisor.layer({ servers: "nats://127.0.0.1:1", outcomeMaxAge })))
      )
      expect(Exit.isFailure(exit) && Exit.findErrorOption(exit)).toMatchObject({
        value: { _tag: "NatsArgumentError", argument: "outcomeMaxAge", value: outcomeMaxAge }
      })
    }
  })
  it("NatsSupervisor.layer with a bad supervisor option fails (SupervisorConfigError naming supervisor.<option>) before it connects", async () => {
    // port 1: nothing listens there, so reaching the server would fail with a NatsConnectError instead
    for (const [supervisor, argument, value] of [
      [{ pools: { db: { concurrency: 0 } } }, "supervisor.pools.db.concurrency", 0],
      [{ concurency: 4 }, "supervisor.concurency", 4],
      ["fast", "supervisor", "fast"]
    ] as const) {
      const exit = await Effect.runPromiseExit(
        Effect.scoped(
          Layer.build(NatsSupervisor.layer({ servers: "nats://127.0.0.1:1", supervisor: supervisor as any }))
        )
      )
      const error = await Effect.runPromise(Effect.flip(exit))
      expect(error).toBeInstanceOf(SupervisorConfigError)
      expect(error).toMatchObject({ argument, value, operation: "NatsSupervisor.layer" })
      expect((error as Error).message).toMatch(
        new RegExp(`^Invalid NatsSupervisor\\.layer ${argument.replace(".", "\\.")}: expected`)
      )
    }
  })
})

describe.skipIf(!available)("bad input", () => {
  const server = suiteServer()
  /** n², fired with `prefix` and run by a worker */
  const squareOn = async (prefix: string, n: number) =>
    (await fire(server.url, Effect.flatMap(Job.fork(d.square.make({ n })), Job.join), undefined, prefix)).value

  it("a run that throws or returns no Effect dies with a typed defect, once; the worker goes on", async () => {
    const w = startWorker(server.url, "careless", { definitions: [throwing, promising, d.square], attempts: 3 })
    try {
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const thrown = yield* Job.await(yield* Job.fork(throwing.make({ n: 1 })))
          const promised = yield* Job.await(yield* Job.fork(promising.make({ n: 2 })))
          const after = yield* Job.join(yield* Job.fork(d.square.make({ n: 5 })))
          return { thrown, promised, after }
        }).pipe(Effect.timeout("20 seconds")) // a safety net: both hung for ever
      )
      expect(defectOf(value.thrown)).toMatchObject({ message: "thrown 1" })
      expect(defectOf(value.promised)).toMatchObject({ _tag: "JobArgumentError", argument: "run" })
      expect(value.after).toBe(25)
      // each ended once (a defect is final: not redelivered)
      expect([...outcomeLines(lines).values()].map((ls) => ls.length)).toEqual([1, 1, 1])
    } finally {
      await w.stop()
    }
  })

  it("a payload JSON cannot carry dies at once in the firing process, naming where; it is never published", async () => {
    received.length = 0
    const w = startWorker(server.url, "picky", { definitions: [anything, dated, nothing] })
    try {
      const circular: Record<string, unknown> = { a: 1 }
      circular.self = circular
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const bad = yield* Job.all(
            [
              anything.make(10n),
              anything.make({ items: [1, Number.NaN] }),
              anything.make(circular),
              anything.make(new Map([[1, 2]])),
              anything.make([1, undefined]),
              dated.make({ at: new Date(0) })
            ],
            { concurrency: 6 }
          )
          // what JSON carries still goes: an undefined payload, a property that is undefined
          const good = yield* Job.all([nothing.make(undefined), anything.make({ a: 1, b: undefined })], {
            concurrency: 2
          })
          return { bad, good }
        }).pipe(Effect.timeout("20 seconds"))
      )
      expect(value.bad.map((o) => defectOf(o.exit))).toMatchObject([
        { _tag: "PayloadJsonError", definition: "anything", path: "payload", found: "a bigint" },
        { _tag: "PayloadJsonError", path: "payload.items[1]", found: "NaN" },
        { _tag: "PayloadJsonError", path: "payload.self", found: "a cycle (an object inside itself)" },
        { _tag: "PayloadJsonError", path: "payload", found: "a Map" },
        { _tag: "PayloadJsonError", path: "payload[1]", found: "undefined" },
        { _tag: "PayloadJsonError", definition: "dated", path: "payload.at", found: "a Date" }
      ])
      expect(value.good.map((o) => o._tag)).toEqual(["Success", "Success"])
      // the worker ran only the two that JSON carries, with their payloads as given
      expect(received).toEqual(["undefined", { a: 1 }])
      expect([...outcomeLines(lines).values()].map((ls) => ls.length)).toEqual([1, 1, 1, 1, 1, 1, 1, 1])
    } finally {
      await w.stop()
    }
  })

  it("a prefix whose stream names another prefix took (differing only in case) is a NatsArgumentError naming it", async () => {
    const w = startWorker(server.url, "lower", { definitions: [d.square], prefix: "shared" })
    try {
      expect(await squareOn("shared", 4)).toBe(16)
      const expected = {
        value: { _tag: "NatsArgumentError", argument: "prefix", value: "SHARED" }
      }
      const layer = await Effect.runPromiseExit(
        Effect.asVoid(Job.fork(d.square.make({ n: 1 }))).pipe(
          Effect.provide(NatsSupervisor.layer({ servers: server.url, prefix: "SHARED" }))
        )
      )
      expect(Exit.isFailure(layer) && Exit.findErrorOption(layer)).toMatchObject(expected)
      const worker = await Effect.runPromiseExit(
        NatsWorker.run({ servers: server.url, definitions: [d.square], prefix: "SHARED" })
      )
      expect(Exit.isFailure(worker) && Exit.findErrorOption(worker)).toMatchObject(expected)
      expect(Exit.isFailure(worker) && Exit.findErrorOption(worker)).toMatchObject({
        value: { message: expect.stringContaining("the stream SHARED_") }
      })
    } finally {
      await w.stop()
    }
  })

  it("a job name, key and id holding a line break run on the worker as given (a header cannot hold one: the name and key died there, the id retried its publish for a minute)", async () => {
    const w = startWorker(server.url, "lines", { definitions: [named] })
    try {
      const { value } = await fire(
        server.url,
        Effect.flatMap(
          Job.fork(named.make({ n: 1 }), { name: "line 1\nline 2", key: "k\r\n%0A", id: "id\n1" }),
          Job.join
        ).pipe(Effect.timeout("20 seconds"))
      )
      expect(value).toEqual(["line 1\nline 2", "k\r\n%0A"])
    } finally {
      await w.stop()
    }
  })

  it("a worker started first makes the outcomes stream with 1 hour; a supervisor asking longer raises it, one asking shorter does not lower it", async () => {
    const w = startWorker(server.url, "early", { definitions: [d.square], prefix: "maxage" })
    const nc = await connect({ servers: server.url })
    try {
      const jsm = await jetstreamManager(nc)
      // the streams are made (by whichever side came first, with 1 hour) once a job has run
      expect(await squareOn("maxage", 2)).toBe(4)
      const hours = async () => (await jsm.streams.info("MAXAGE_OUTCOMES")).config.max_age / 3_600_000_000_000
      expect(await hours()).toBe(1)
      const started = (outcomeMaxAge: Duration.Input) =>
        fire(server.url, Supervisor.snapshot, undefined, "maxage", { outcomeMaxAge })
      await started("1 day")
      expect(await hours()).toBe(24)
      await started("10 minutes")
      expect(await hours()).toBe(24)
    } finally {
      await nc.close()
      await w.stop()
    }
  })
  it("an outcome holding a cycle (an HTTP error holding its request) arrives, the cycle written as [Circular] (its awaiter waited for ever)", async () => {
    const w = startWorker(server.url, "loops", { definitions: [loops], attempts: 1 })
    try {
      const { value, lines } = await fire(
        server.url,
        Job.all([loops.make("value"), loops.make("failure"), loops.make("defect")], { concurrency: 3 }).pipe(
          Effect.timeout("20 seconds") // a safety net: all three waited for ever
        )
      )
      expect(value.map((o) => o._tag)).toEqual(["Success", "Failure", "Failure"])
      expect(Exit.isSuccess(value[0]!.exit) && value[0]!.exit.value).toEqual({
        status: 500,
        request: { response: "[Circular]" }
      })
      expect(Exit.isFailure(value[1]!.exit) && Exit.findErrorOption(value[1]!.exit)).toMatchObject({
        value: { _tag: "HttpError", status: 500, request: { status: 500, request: { response: "[Circular]" } } }
      })
      expect(defectOf(value[2]!.exit)).toMatchObject({ message: "crashed" })
      expect([...outcomeLines(lines).values()].map((ls) => ls.length)).toEqual([1, 1, 1])
    } finally {
      await w.stop()
    }
  })
  it("a worker whose ackWait or maxAckPending differs from the shared consumer's fails at start naming both values, and leaves the consumer alone; with updateConsumer: true it sets them for every worker", async () => {
    const prefix = "mixedconsumer"
    const w = startWorker(server.url, "first", { definitions: [d.square], prefix, ackWait: "30 seconds" })
    const nc = await connect({ servers: server.url })
    let updated: ReturnType<typeof startWorker> | undefined
    try {
      expect(await squareOn(prefix, 3)).toBe(9)
      const jsm = await jetstreamManager(nc)
      const consumer = async () => {
        const { config } = await jsm.consumers.info("MIXEDCONSUMER_JOBS", "mixedconsumer-workers")
        return { ackWait: config.ack_wait, maxAckPending: config.max_ack_pending }
      }
      const started = (options: Partial<NatsWorker.Options<never>>) =>
        Effect.runPromiseExit(NatsWorker.run({ servers: server.url, definitions: [d.square], prefix, ...options }))
      const shorter = await started({ ackWait: "1 second" })
      expect(Exit.isFailure(shorter) && Exit.findErrorOption(shorter)).toMatchObject({
        value: {
          _tag: "NatsArgumentError",
          argument: "ackWait",
          value: "1 second",
          message:
            'Invalid NatsWorker.run ackWait: expected the ack wait of the workers\' consumer mixedconsumer-workers, 30000 ms, that another worker set; pass updateConsumer: true to set it for every worker (or start this worker with that value), received "1 second"'
        }
      })
      const byDefault = await started({ maxAckPending: 7, ackWait: "30 seconds" })
      expect(Exit.isFailure(byDefault) && Exit.findErrorOption(byDefault)).toMatchObject({
        value: {
          _tag: "NatsArgumentError",
          argument: "maxAckPending",
          value: 7,
          message: expect.stringContaining(", 1000, ")
        }
      })
      // neither touched the consumer
      expect(await consumer()).toEqual({ ackWait: 30_000_000_000, maxAckPending: 1000 })
      const badFlag = await started({ updateConsumer: "yes" as unknown as boolean })
      expect(Exit.isFailure(badFlag) && Exit.findErrorOption(badFlag)).toMatchObject({
        value: { _tag: "NatsArgumentError", argument: "updateConsumer", value: "yes" }
      })
      updated = startWorker(server.url, "second", {
        definitions: [d.square],
        prefix,
        ackWait: "10 seconds",
        maxAckPending: 50,
        updateConsumer: true
      })
      while ((await consumer()).ackWait !== 10_000_000_000) await new Promise((r) => setImmediate(r))
      expect(await consumer()).toEqual({ ackWait: 10_000_000_000, maxAckPending: 50 })
      expect(await squareOn(prefix, 4)).toBe(16)
    } finally {
      await nc.close()
      await updated?.stop()
      await w.stop()
    }
  })
  it("a worker with bad pools fails (SupervisorConfigError naming the pool's option) before it touches the server: the shared consumer keeps its maxAckPending", async () => {
    const w = startWorker(server.url, "good", { definitions: [d.square], prefix: "badpools", maxAckPending: 1000 })
    const nc = await connect({ servers: server.url })
    try {
      expect(await squareOn("badpools", 3)).toBe(9)
      const exit = await Effect.runPromiseExit(
        NatsWorker.run({
          servers: server.url,
          definitions: [d.square],
          prefix: "badpools",
          maxAckPending: 7,
          pools: { p: { concurrency: -1 } }
        })
      )
      const error = await Effect.runPromise(Effect.flip(exit))
      expect(error).toBeInstanceOf(SupervisorConfigError)
      expect(error).toMatchObject({ argument: "pools.p.concurrency", value: -1, operation: "NatsWorker.run" })
      expect((error as Error).message).toBe(
        "Invalid NatsWorker.run pools.p.concurrency: expected an integer ≥ 1 (or Infinity), received -1"
      )
      const jsm = await jetstreamManager(nc)
      expect((await jsm.consumers.info("BADPOOLS_JOBS", "badpools-workers")).config.max_ack_pending).toBe(1000)
    } finally {
      await nc.close()
      await w.stop()
    }
  })
  /** the lines about remote jobs in flight that the dispatcher's close writes */
  const closing = (lines: ReadonlyArray<Line>) =>
    lines.filter((l) => l.message.includes("remote job(s)")).map((l) => `${l.level} ${l.message}`)

  it("dispatcher: a job fired just before its scope closes (Job.fire, then the program ends) runs on a worker, its outcome waited for", async () => {
    d.runs.length = 0
    const w = startWorker(server.url, "late", { definitions: [d.square], prefix: "late" })
    const lines: Array<Line> = []
    try {
      await Effect.runPromise(
        Job.fire(d.square.make({ n: 6 })).pipe(
          Effect.provide(NatsSupervisor.dispatcher({ servers: server.url, prefix: "late" })),
          Effect.provide(Supervisor.layer({ concurrency: 10 })),
          Effect.provide(Logger.layer([recorder(lines)])),
          Effect.provideService(References.MinimumLogLevel, "All")
        )
      )
      // it failed on the closed connection (a NatsConnectError after publishTimeout), never published
      expect(d.runs).toEqual([["square", 6, "late"]])
      expect([...outcomeLines(lines).values()].map((ls) => ls.map((l) => l.annotations["job.outcome"]))).toEqual([
        ["Success"]
      ])
      expect(closing(lines)).toEqual([
        "Info waiting for the outcomes of 1 remote job(s) still in flight, at most outcomeMaxAge (3600000 ms)"
      ])
    } finally {
      await w.stop()
    }
  })

  it("dispatcher: a scope closed with a remote job in flight and no worker says it waits (outcomeMaxAge), then that it gave up", async () => {
    const lines: Array<Line> = []
    await Effect.runPromise(
      Job.fire(d.square.make({ n: 1 })).pipe(
        Effect.provide(NatsSupervisor.dispatcher({ servers: server.url, prefix: "nowork", outcomeMaxAge: "1 second" })),
        Effect.provide(Supervisor.layer({ concurrency: 10 })),
        Effect.provide(Logger.layer([recorder(lines)]))
      )
    )
    expect(closing(lines)).toEqual([
      "Info waiting for the outcomes of 1 remote job(s) still in flight, at most outcomeMaxAge (1000 ms)",
      "Warn gave up waiting for the outcomes of 1 remote job(s) after outcomeMaxAge"
    ])
  })
})
