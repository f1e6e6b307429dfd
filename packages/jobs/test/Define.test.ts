/**
 * `Job.define`: a named job whose payload a Schema encodes, accepted wherever a job is.
 */
import { Chan } from "@tributary/channel"
import { Cause, Effect, Exit, Option, Schema, SchemaGetter } from "effect"
import { describe, expect, it } from "vitest"
import { Job, JobArgumentError, JobPayloadError, Supervisor } from "../src/index.js"
import { linesOf, run } from "./harness.js"

const seen: Array<number> = []
const syncRecord = Job.define({
  name: "sync-record",
  payload: Schema.Struct({ id: Schema.Number, since: Schema.DateFromString }),
  run: ({ id, since }) =>
    Effect.sync(() => {
      seen.push(id)
      return `${id}@${since.getTime()}`
    })
})

describe("Job.define", () => {
  it("fire: the job is named after the definition; its encoded payload is on the outcome and the outcome line", async () => {
    const { value, lines } = await run(
      Effect.gen(function* () {
        const outcomes = yield* Chan.make<Job.Outcome<string, never>>(4)
        yield* Job.fire(syncRecord.make({ id: 42, since: new Date(0) }), { reportTo: outcomes })
        yield* Supervisor.drain
        return yield* Chan.take(outcomes)
      })
    )
    const outcome = Option.getOrThrow(value)
    expect(outcome).toMatchObject({ _tag: "Success", name: "sync-record" })
    expect(outcome.payload).toEqual({ id: 42, since: "1970-01-01T00:00:00.000Z" })
    const line = linesOf(lines, "sync-record").find((l) => "job.outcome" in l.annotations)
    expect(line?.annotations["job.payload"]).toEqual({ id: 42, since: "1970-01-01T00:00:00.000Z" })
  })

  it("fork, forkAll and all accept defined jobs with the same options; a name option wins", async () => {
    seen.length = 0
    const { value } = await run(
      Effect.gen(function* () {
        const h = yield* Job.fork(syncRecord.make({ id: 1, since: new Date(5) }), { name: "one" })
        const joined = yield* Job.join(h)
        const all = yield* Job.all(
          [2, 3].map((id) => syncRecord.make({ id, since: new Date(0) })),
          { concurrency: 2, name: "batch" }
        )
        const unnamed = yield* Job.all([syncRecord.make({ id: 4, since: new Date(0) })], { concurrency: 1 })
        const port = yield* Job.forkAll([syncRecord.make({ id: 5, since: new Date(0) })], { concurrency: 1 })
        const forked = yield* Chan.toArray(port)
        return {
          joined,
          handle: h.name,
          all: all.map((o) => [o.name, o.payload]),
          unnamed: unnamed[0].name,
          forked: forked.map((o) => [o._tag, o.name, o.payload])
        }
      })
    )
    expect(value.joined).toBe("1@5")
    expect(value.handle).toBe("one")
    // a group names its jobs by index unless the item names them
    expect(value.all).toEqual([
      ["batch-0", { id: 2, since: "1970-01-01T00:00:00.000Z" }],
      ["batch-1", { id: 3, since: "1970-01-01T00:00:00.000Z" }]
    ])
    expect(value.unnamed).toBe("sync-record-0") // an unnamed group names a defined job after its definition
    expect(value.forked).toEqual([["Success", "sync-record-0", { id: 5, since: "1970-01-01T00:00:00.000Z" }]])
    expect(seen).toEqual([1, 2, 3, 4, 5])
  })

  it("a defined job dropped by a full queue is named with its payload in the warn line (its only record)", async () => {
    const { lines } = await run(
      Effect.gen(function* () {
        yield* Job.fire(Effect.never, { name: "busy" })
        yield* Job.fire(syncRecord.make({ id: 7, since: new Date(0) })) // concurrency 1, maxQueued 0: dropped
        yield* Supervisor.shutdown({ grace: 0 })
      }),
      { concurrency: 1, maxQueued: 0, whenFull: "drop" }
    )
    const dropped = linesOf(lines, "sync-record").find((l) => l.message.includes("dropped"))
    expect(dropped?.level).toBe("Warn")
    expect(dropped?.annotations["job.payload"]).toEqual({ id: 7, since: "1970-01-01T00:00:00.000Z" })
  })

  it("a payload that does not encode is a JobPayloadError at make, naming the definition", () => {
    let caught: unknown
    try {
      syncRecord.make({ id: "x" as never, since: new Date(0) })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(JobPayloadError)
    expect((caught as JobPayloadError)._tag).toBe("JobPayloadError")
    expect((caught as JobPayloadError).definition).toBe("sync-record")
    expect((caught as Error).message).toContain('job "sync-record" does not encode')
  })

  it("a run that returns no Effect fails its job with a JobArgumentError naming run and the value", async () => {
    const returns = (name: string, value: unknown) =>
      Job.define({ name, payload: Schema.Number, run: (() => value) as unknown as () => Effect.Effect<void> })
    const { value } = await run(
      Effect.gen(function* () {
        const outcomes = yield* Chan.make<Job.Outcome<void, never>>(4)
        yield* Job.fire(returns("returns-42", 42).make(1), { reportTo: outcomes })
        yield* Job.fire(returns("returns-promise", Promise.resolve(1)).make(2), { reportTo: outcomes })
        yield* Supervisor.drain
        return [Option.getOrThrow(yield* Chan.take(outcomes)), Option.getOrThrow(yield* Chan.take(outcomes))]
      })
    )
    const defects = value.map((o) => {
      expect(o._tag).toBe("Failure")
      const defect = Exit.isFailure(o.exit) ? o.exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined
      expect(defect).toBeInstanceOf(JobArgumentError)
      return [o.name, (defect as JobArgumentError).argument, (defect as JobArgumentError).message]
    })
    expect(defects).toEqual([
      ["returns-42", "run", expect.stringContaining('job "returns-42"')],
      ["returns-promise", "run", expect.stringContaining("received a Promise")]
    ])
  })

  it("a defined job is an Effect of its own: run directly (yield*, runPromise, piped), it runs run(payload) when evaluated", async () => {
    const calls: Array<number> = []
    const double = Job.define({
      name: "double",
      payload: Schema.Number,
      run: (n: number) =>
        Effect.sync(() => {
          calls.push(n)
          return n * 2
        })
    })
    const made = double.make(3)
    expect(calls).toEqual([]) // run is called when the job runs, not at make
    const inGen = await Effect.runPromise(
      Effect.gen(function* () {
        return yield* made
      })
    )
    const direct = await Effect.runPromise(made)
    const piped = await Effect.runPromise(made.pipe(Effect.map((n) => n + 1)))
    expect([inGen, direct, piped]).toEqual([6, 6, 7])
    expect(calls).toEqual([3, 3, 3])
    const notEffect = Job.define({
      name: "not-an-effect",
      payload: Schema.Number,
      run: (() => 42) as unknown as () => Effect.Effect<void>
    })
    const exit = await Effect.runPromiseExit(
      Effect.gen(function* () {
        yield* notEffect.make(1)
      })
    )
    const defect = Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined
    expect(defect).toBeInstanceOf(JobArgumentError)
    expect((defect as JobArgumentError).argument).toBe("run")
    expect((defect as JobArgumentError).message).toBe(
      'Invalid Job.define run: expected an Effect from the run of job "not-an-effect" (wrap a Promise-returning function as Effect.tryPromise(() => f())), received 42'
    )
  })

  it("a payload whose Schema encodes asynchronously is a JobPayloadError that says so", () => {
    const Later = Schema.String.pipe(
      Schema.decodeTo(Schema.Number, {
        decode: SchemaGetter.transform((s: string) => Number(s)),
        encode: SchemaGetter.transformEffect((n: number) => Effect.delay(Effect.succeed(String(n)), "1 millis"))
      })
    )
    const later = Job.define({ name: "later", payload: Later, run: () => Effect.void })
    let caught: unknown
    try {
      later.make(5)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(JobPayloadError)
    expect((caught as JobPayloadError).message).toBe(
      'the payload of job "later" does not encode: its Schema encodes asynchronously, and make encodes at once (use a Schema whose encoding is synchronous)'
    )
  })

  it("a bad definition is a JobArgumentError naming the field", () => {
    const bad: ReadonlyArray<readonly [string, unknown]> = [
      ["name", { name: "", payload: Schema.Number, run: () => Effect.void }],
      ["payload", { name: "x", payload: 42, run: () => Effect.void }],
      ["run", { name: "x", payload: Schema.Number, run: "no" }],
      // a key define does not read would be ignored (a timeout meant for every job of it)
      ["timeout", { name: "x", payload: Schema.Number, run: () => Effect.void, timeout: "20 millis" }],
      ["pool", { name: "x", payload: Schema.Number, run: () => Effect.void, pool: "partner" }]
    ]
    for (const [argument, spec] of bad) {
      let caught: unknown
      try {
        Job.define(spec as never)
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(JobArgumentError)
      expect((caught as JobArgumentError).argument).toBe(argument)
      expect((caught as JobArgumentError).operation).toBe("Job.define")
      expect((caught as JobArgumentError).message).toMatch(new RegExp(`^Invalid Job\\.define ${argument}: expected `))
    }
    expect(() => Job.define({ name: "x", payload: Schema.Number, run: () => Effect.void, runn: 1 } as never)).toThrow(
      "Invalid Job.define runn: expected a known option (did you mean run?); the known ones are name, payload, run (a job's options are given where it is fired: Job.fire(definition.make(payload), { timeout })), received 1"
    )
  })
})
