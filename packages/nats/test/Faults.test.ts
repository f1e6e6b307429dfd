/**
 * What an operator meets in production, against a real nats-server with in-process workers: the
 * workers' consumer deleted under a running worker (the worker makes it again and keeps pulling,
 * with a warning saying so), the jobs stream deleted with it (both made again), the outcomes
 * stream deleted (made again by the worker, read again by the firing side); a job whose outcome is larger than the server's `max_payload` (it
 * ends at once, on both sides, with a `MessageTooLargeError` defect naming the sizes, instead of
 * retrying the publish for ever); a job whose payload is too large to publish (the same error, at
 * once, instead of a minute of retries ending in a `NatsConnectError`).
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  StorageType
} from "@nats-io/jetstream"
import { connect, headers, type NatsConnection } from "@nats-io/transport-node"
import { Job } from "@tributary/jobs"
import { Cause, Deferred, Effect, Exit, Schedule, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { type Names, namesOf, PROBE_HEADER } from "../src/internal/wire.js"
import * as d from "./fixtures/definitions.js"
import { fire, outcomeTags, startWorker } from "./harness.js"
import { available, skipReason, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

/** returns a text of n bytes: with n past the server's max_payload (1 MiB by default) its outcome cannot travel */
const big = Job.define({
  name: "big",
  payload: Schema.Struct({ n: Schema.Number }),
  run: ({ n }) => Effect.succeed("x".repeat(n))
})

/** the defect of a failed exit */
const defectOf = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined

let quitRuns = 0
/** interrupts itself (as a job whose body joins an interrupted fiber does), counting its runs */
const quits = Job.define({
  name: "quits",
  payload: Schema.Struct({ n: Schema.Number }),
  run: () =>
    Effect.suspend(() => {
      quitRuns++
      return Effect.interrupt
    })
})

/** the consumer's counts once the worker `w` has stopped (its connection drained: its acks and terms reached the server) */
const settledConsumer = async (w: { readonly stop: () => Promise<void> }, nc: NatsConnection, prefix: string) => {
  await w.stop()
  const names = namesOf(prefix)
  const consumer = await (await jetstreamManager(nc)).consumers.info(names.jobsStream, names.consumer)
  return { pending: consumer.num_pending, ackPending: consumer.num_ack_pending, redelivered: consumer.num_redelivered }
}
const done = { pending: 0, ackPending: 0, redelivered: 0 }

/** a generous safety net on a wait that the test expects to end */
const within = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.timeout(effect, "20 seconds")

/**
 * An operator's delete, tried again while the server says it could not remove the files yet
 * (nats-server 2.9 answers "unlinkat …: directory not empty" now and then when an ack is being
 * stored meanwhile); a retry that finds the stream or consumer gone means the first one did it.
 */
const asOperator = (remove: () => Promise<unknown>): Promise<unknown> =>
  Effect.runPromise(
    Effect.tryPromise({ try: remove, catch: (e) => e }).pipe(
      Effect.retry({
        while: (e) => e instanceof JetStreamApiError && e.message.includes("directory not empty"),
        schedule: Schedule.spaced("50 millis"),
        times: 200 // up to 10 s: a generous safety net (5 tries, 250 ms, could run out on a loaded machine)
      }),
      Effect.catchIf(
        (e) =>
          e instanceof JetStreamApiError &&
          (e.code === JetStreamApiCodes.ConsumerNotFound || e.code === JetStreamApiCodes.StreamNotFound),
        () => Effect.void
      )
    )
  )

/** until the job `n` of `endless` runs on an in-process worker */
const awaitStarted = (n: number) => within(Deferred.await(d.gateOf(n).started))

describe.skipIf(!available)("faults an operator meets", () => {
  const server = suiteServer()

  /**
   * Runs a square job on a worker of `prefix`, then `remove` (with a JetStream manager, the names,
   * and `warned`: resolves once the worker logged a warning containing a text), then another: the
   * values of both, the worker's warnings, and the consumer's name after.
   */
  const squareAround = async (
    prefix: string,
    remove: (jsm: JetStreamManager, names: Names, warned: (text: string) => Promise<unknown>) => Promise<unknown>
  ) => {
    const names = namesOf(prefix)
    const w = startWorker(server.url, "w", { prefix })
    const warned = (text: string) =>
      Effect.runPromise(
        within(
          Effect.repeat(
            Effect.sync(() => w.lines.some((l) => l.level === "Warn" && l.message.includes(text))),
            { until: (seen) => seen, schedule: Schedule.spaced("20 millis") }
          )
        )
      )
    const nc = await connect({ servers: server.url })
    try {
      const jsm = await jetstreamManager(nc)
      const { value } = await fire(
        server.url,
        Effect.gen(function* () {
          const before = yield* within(Effect.flatMap(Job.fork(d.square.make({ n: 3 })), Job.join))
          // the worker is idle, its pull request outstanding: the server ends it with 409 Consumer Deleted
          yield* Effect.promise(() => remove(jsm, names, warned))
          // published while no stream listens, if it was deleted: retried until the worker made it again
          const after = yield* within(Effect.flatMap(Job.fork(d.square.make({ n: 4 })), Job.join))
          return [before, after]
        }),
        undefined,
        prefix
      )
      const consumer = (await jsm.consumers.info(names.jobsStream, names.consumer)).config.durable_name
      return { value, warnings: w.lines.filter((l) => l.level === "Warn").map((l) => l.message), consumer }
    } finally {
      await w.stop()
      await nc.close()
    }
  }

  it("the workers' consumer deleted under a running worker: it makes the consumer again, says so, and the next job runs", async () => {
    const { value, warnings, consumer } = await squareAround("faultconsumer", (jsm, names) =>
      asOperator(() => jsm.consumers.delete(names.jobsStream, names.consumer))
    )
    expect(value).toEqual([9, 16])
    // the server's advisory or the 409 that ends the outstanding pull request, whichever comes first
    expect(warnings).toContainEqual(
      expect.stringMatching(
        /^pulling jobs: (the server says the consumer was deleted|.*409 Consumer Deleted).*made again$/
      )
    )
    expect(consumer).toBe(namesOf("faultconsumer").consumer)
  })

  it("the jobs stream deleted under a running worker (its consumer with it): the worker makes both again, and a job fired then runs", async () => {
    const { value, consumer } = await squareAround("faultstream", (jsm, names) =>
      asOperator(() => jsm.streams.delete(names.jobsStream))
    )
    expect(value).toEqual([9, 16])
    expect(consumer).toBe(namesOf("faultstream").consumer)
  })

  it("the outcomes stream deleted under a running worker and firing supervisor: the worker makes it again when an outcome finds no stream, and the outcome of a job fired then arrives", async () => {
    const { value, warnings } = await squareAround("faultoutcomes", (jsm, names) =>
      asOperator(() => jsm.streams.delete(names.outcomesStream))
    )
    expect(value).toEqual([9, 16])
    expect(warnings).toContainEqual(expect.stringContaining("the outcomes stream was gone: made again"))
  })

  it("the jobs stream cannot be made again at first (another stream holds its subject): the worker tries again until it can, and a job fired then runs", async () => {
    const blocker = "FAULTRETRY_BLOCKER"
    const { value, warnings } = await squareAround("faultretry", async (jsm, names, warned) => {
      await jsm.streams.delete(names.jobsStream)
      await jsm.streams.add({ name: blocker, subjects: [names.jobsSubject], storage: StorageType.Memory })
      await warned("making the streams and the consumer again failed")
      await jsm.streams.delete(blocker)
    })
    expect(value).toEqual([9, 16])
    expect(warnings).toContainEqual(expect.stringContaining("the jobs stream and the consumer were gone: made again"))
  })

  it("a probe message (what checks a stream just made) pulled by a worker is acked without a word, never run as a job", async () => {
    const prefix = "faultprobe"
    const names = namesOf(prefix)
    const w = startWorker(server.url, "w", { prefix })
    const nc = await connect({ servers: server.url })
    try {
      const { value } = await fire(
        server.url,
        Effect.gen(function* () {
          yield* within(Effect.flatMap(Job.fork(d.square.make({ n: 2 })), Job.join)) // the consumer is there
          const h = headers()
          h.set(PROBE_HEADER, "1")
          yield* Effect.promise(() => jetstream(nc).publish(`${names.jobsSubject}.probe`, "", { headers: h }))
          // pulled after the probe (one consumer delivers in order): the probe was taken by then
          return yield* within(Effect.flatMap(Job.fork(d.square.make({ n: 5 })), Job.join))
        }),
        undefined,
        prefix
      )
      expect(value).toBe(25)
      expect(await settledConsumer(w, nc, prefix)).toEqual(done)
      expect(w.lines.filter((l) => l.level === "Warn")).toEqual([])
    } finally {
      await w.stop()
      await nc.close()
    }
  })

  it("an outcome larger than max_payload: the job ends at once with a MessageTooLargeError defect naming the sizes, its message done; the worker goes on", async () => {
    const prefix = "faultoutcome"
    const w = startWorker(server.url, "w", { prefix, definitions: [...d.all, big] })
    const nc = await connect({ servers: server.url })
    try {
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const h = yield* Job.fork(big.make({ n: 2_000_000 }))
          const exit = yield* within(Job.await(h))
          const next = yield* within(Effect.flatMap(Job.fork(d.square.make({ n: 5 })), Job.join))
          return { id: h.id, exit, next }
        }),
        undefined,
        prefix
      )
      expect(defectOf(value.exit)).toMatchObject({
        _tag: "MessageTooLargeError",
        definition: "big",
        what: "outcome",
        limit: nc.info!.max_payload
      })
      expect((defectOf(value.exit) as { bytes: number }).bytes).toBeGreaterThan(2_000_000)
      // logged once here (a defect ends a job as a Failure)
      expect(outcomeTags(lines, value.id)).toEqual(["Failure"])
      expect(value.next).toBe(25)
      // its message is done: acked or termed, nothing left to redeliver
      expect(await settledConsumer(w, nc, prefix)).toEqual(done)
    } finally {
      await w.stop()
      await nc.close()
    }
  })

  it("a payload larger than max_payload: the job fails at once with a MessageTooLargeError defect (not a minute of retries)", async () => {
    const prefix = "faultpayload"
    const nc = await connect({ servers: server.url })
    try {
      const { value } = await fire(
        server.url,
        within(Effect.flatMap(Job.fork(d.squareOfText.make({ text: "x".repeat(2_000_000) })), Job.await)),
        undefined,
        prefix
      )
      expect(defectOf(value)).toMatchObject({
        _tag: "MessageTooLargeError",
        definition: "square",
        what: "payload",
        limit: nc.info!.max_payload
      })
    } finally {
      await nc.close()
    }
  })

  it("a job that interrupts itself on the worker ends once as Interrupted, its message termed (it was handed back and redelivered at once, for ever)", async () => {
    const prefix = "faultquits"
    const w = startWorker(server.url, "w", { prefix, definitions: [...d.all, quits] })
    const nc = await connect({ servers: server.url })
    try {
      quitRuns = 0
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const h = yield* Job.fork(quits.make({ n: 1 }))
          return { id: h.id, exit: yield* within(Job.await(h)) }
        }),
        undefined,
        prefix
      )
      expect(Exit.hasInterrupts(value.exit)).toBe(true)
      expect(outcomeTags(lines, value.id)).toEqual(["Interrupted"])
      expect(await settledConsumer(w, nc, prefix)).toEqual(done)
      expect(quitRuns).toBe(1)
    } finally {
      await w.stop()
      await nc.close()
    }
  })

  it("a worker stopped while a job waits behind another in its pool: that job never starts there, and is handed back once (not to the stopping worker's own request again and again)", async () => {
    const prefix = "faultstop"
    const names = namesOf(prefix)
    // a job left held would wait out the 10 minute ack wait (the test would time out)
    const options = { prefix, pools: { p: { concurrency: 1 } }, ackWait: "10 minutes", grace: "5 seconds" } as const
    const w = startWorker(server.url, "w", options)
    let w2: ReturnType<typeof startWorker> | undefined
    const nc = await connect({ servers: server.url })
    const jsm = await jetstreamManager(nc)
    /** the consumer's state (tried again until the worker, starting meanwhile, has made it) */
    const consumer = () =>
      Effect.retry(
        Effect.tryPromise(() => jsm.consumers.info(names.jobsStream, names.consumer)),
        { schedule: Schedule.spaced("20 millis") }
      )
    try {
      d.runs.length = 0
      const { value } = await fire(
        server.url,
        Effect.gen(function* () {
          // a runs in the pool until the gate 799 opens; b waits behind it, held by the worker
          const a = yield* Job.fork(d.succeedsAfter.make({ n: 701, after: [799] }), { pool: "p" })
          const b = yield* Job.fork(d.endless.make({ n: 702 }), { pool: "p" })
          yield* within(
            Effect.repeat(consumer(), { until: (c) => c.num_ack_pending === 2, schedule: Schedule.spaced("20 millis") })
          )
          // a runs (held is not yet started: a stop before its start would hand it back, and a would
          // wait here for a worker that only starts once it ended)
          yield* awaitStarted(701)
          // the stop begins (its pull request is outstanding: the stop waits for its end), then a ends
          const stopped = w.stop()
          yield* Deferred.succeed(d.gateOf(799).started, undefined)
          const first = yield* within(Job.await(a))
          yield* Effect.promise(() => stopped)
          // another worker runs b at once
          w2 = startWorker(server.url, "w2", options)
          yield* awaitStarted(702)
          const deliveries = (yield* consumer()).delivered.consumer_seq
          yield* Job.interrupt(b)
          return { first, deliveries }
        }),
        { concurrency: 100, pools: { p: { concurrency: 10 } } },
        prefix
      )
      expect(Exit.isSuccess(value.first) && value.first.value).toBe(701)
      // b ran only on w2
      expect(d.runs.filter(([def]) => def === "endless")).toEqual([["endless", 702, "w2"]])
      // a once, b twice: to w, then to w2
      expect(value.deliveries).toBe(3)
    } finally {
      await w.stop()
      await w2?.stop()
      await nc.close()
    }
  })
})
