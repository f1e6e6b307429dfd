/**
 * What a worker tells the server about each job message, seen by a connection of the test's own
 * against a real nats-server, with in-process workers: the deliveries (their reply subject, on
 * `_INBOX.>`, carries the delivery number) and every answer (`$JS.ACK.<jobs stream>.>`: +ACK, -NAK
 * with its delay, +TERM, +WPI), matched to jobs by message id. A success is acked; a typed failure
 * is naked with `retryDelay` × its delivery number until the last attempt, which is termed; a
 * defect, an unknown definition and a payload that does not decode are termed at once (never
 * redelivered); progress acks keep a job that runs past the ack wait from being redelivered. Also:
 * a worker's pools bound its jobs (sampled inside them), and `Supervisor.watch` shows remote jobs.
 */
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Job, Supervisor } from "@tributary/jobs"
import { Deferred, Effect, Schema, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { namesOf } from "../src/internal/wire.js"
import * as d from "./fixtures/definitions.js"
import { fire, outcomeTags, startWorker } from "./harness.js"
import { available, skipReason, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

/** a generous safety net on a wait that the test expects to end */
const within = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.timeout(effect, "20 seconds")

/**
 * Watches the deliveries and answers of the workers' consumer of `prefix`. A message's reply subject
 * is `$JS.ACK.<stream>.<consumer>.<delivery>.<stream seq>.…`; its answers are published to it.
 */
const watchAcks = async (url: string, prefix: string) => {
  const names = namesOf(prefix)
  const nc = await connect({ servers: url })
  const ackPrefix = `$JS.ACK.${names.jobsStream}.${names.consumer}.`
  /** stream sequence → the message id of the job message stored there */
  const idOf = new Map<string, string>()
  /** stream sequence → its delivery numbers, in order */
  const deliveries = new Map<string, Array<number>>()
  /** stream sequence → the answers to its deliveries, in order */
  const answers = new Map<string, Array<string>>()
  let changed: () => void = () => {}
  const push = <A>(map: Map<string, Array<A>>, seq: string, a: A) => {
    map.set(seq, [...(map.get(seq) ?? []), a])
    changed()
  }
  nc.subscribe("_INBOX.>", {
    callback: (error, m) => {
      if (error !== null || m.reply === undefined || !m.reply.startsWith(ackPrefix)) return
      const [delivery, seq] = m.reply.slice(ackPrefix.length).split(".")
      idOf.set(seq, m.headers?.get("Nats-Msg-Id") ?? "")
      push(deliveries, seq, Number(delivery))
    }
  })
  nc.subscribe(`${ackPrefix}>`, {
    callback: (error, m) => {
      if (error !== null) return
      push(answers, m.subject.slice(ackPrefix.length).split(".")[1], m.string())
    }
  })
  await nc.flush()
  /** the stream sequences of the messages of job `jobId` (its message id is `<instance>.<job id>.<attempt>`) */
  const seqsOf = (jobId: string) => [...idOf.entries()].filter(([, id]) => id.split(".")[1] === jobId).map(([s]) => s)
  const of = <A>(map: Map<string, Array<A>>, jobId: string) => seqsOf(jobId).flatMap((s) => map.get(s) ?? [])
  return {
    /** the delivery numbers of job `jobId`'s messages */
    deliveries: (jobId: string) => of(deliveries, jobId),
    /** the answers to job `jobId`'s messages, progress acks left out */
    answers: (jobId: string) => of(answers, jobId).filter((a) => a !== "+WPI"),
    /** the progress acks of job `jobId`'s messages */
    progressAcks: (jobId: string) => of(answers, jobId).filter((a) => a === "+WPI").length,
    /** resolves once `holds` is true (checked at each delivery or answer) */
    until: (holds: () => boolean): Promise<void> =>
      new Promise((resolve) => {
        changed = () => {
          if (!holds()) return
          changed = () => {}
          resolve()
        }
        changed()
      }),
    /** every message received so far (the server routes the workers' answers before this round trip ends) */
    flush: () => nc.flush(),
    /** what the jobs stream's consumer still owes */
    consumerState: async () => {
      const c = await (await jetstreamManager(nc)).consumers.info(names.jobsStream, names.consumer)
      return { pending: c.num_pending, ackPending: c.num_ack_pending, redelivered: c.num_redelivered }
    },
    close: () => nc.close()
  }
}

/** forks the job `n` of `endless` and waits until it runs on the (in-process) worker */
const forkRunning = (n: number) =>
  Effect.tap(Job.fork(d.endless.make({ n })), () => within(Deferred.await(d.gateOf(n).started)))

let poolRunning = 0
let poolMost = 0
/** counts the jobs running side by side in this process (`poolMost`), for 20 ms each */
const pooled = Job.define({
  name: "pooled",
  payload: Schema.Struct({ n: Schema.Number }),
  run: ({ n }) =>
    Effect.suspend(() => {
      poolMost = Math.max(poolMost, ++poolRunning)
      return Effect.as(Effect.sleep(20), n)
    }).pipe(Effect.ensuring(Effect.sync(() => poolRunning--)))
})

describe.skipIf(!available)("a worker's answers to the server", () => {
  const server = suiteServer()

  it("+ACK a success; -NAK with retryDelay × delivery a typed failure, +TERM its last attempt; +TERM at once a defect, an unknown definition, a payload that does not decode; nothing left to redeliver", async () => {
    const prefix = "acks"
    const acks = await watchAcks(server.url, prefix)
    const w = startWorker(server.url, "acker", { prefix, attempts: 3, retryDelay: "10 millis" })
    try {
      const { value, lines } = await fire(
        server.url,
        Effect.forEach(
          [
            d.square.make({ n: 2 }) as Effect.Effect<unknown, unknown>,
            d.broken.make({ n: 3 }),
            d.crashing.make({ n: 4 }),
            d.unknown.make({ n: 5 }),
            d.squareOfText.make({ text: "six" })
          ],
          // one at a time: each ends before the next is fired
          (job) => Effect.flatMap(Job.fork(job), (h) => Effect.as(within(Job.await(h)), h.id))
        ),
        undefined,
        prefix
      )
      await w.stop() // its connection drained: every answer reached the server
      await acks.flush()
      expect(value.map((id) => acks.answers(id))).toEqual([
        ["+ACK"],
        ['-NAK {"delay":10000000}', '-NAK {"delay":20000000}', "+TERM"],
        ["+TERM"],
        ["+TERM"],
        ["+TERM"]
      ])
      expect(value.map((id) => acks.deliveries(id))).toEqual([[1], [1, 2, 3], [1], [1], [1]])
      expect(value.map((id) => outcomeTags(lines, id))).toEqual([
        ["Success"],
        ["Failure"],
        ["Failure"],
        ["Failure"],
        ["Failure"]
      ])
      expect(await acks.consumerState()).toEqual({ pending: 0, ackPending: 0, redelivered: 0 })
    } finally {
      await w.stop()
      await acks.close()
    }
  })

  it("progress acks (+WPI, every third of the ack wait) keep a job running past its ack wait from being redelivered", async () => {
    const prefix = "wpi"
    const acks = await watchAcks(server.url, prefix)
    d.runs.length = 0
    const w = startWorker(server.url, "holder", { prefix, ackWait: "2 seconds" })
    try {
      const { value } = await fire(
        server.url,
        Effect.gen(function* () {
          const h = yield* forkRunning(901)
          // 5 progress acks are at least 4 × 667 ms apart: past the ack wait since the delivery, when
          // the server would have delivered it again without them (it does: shown by leaving them out)
          yield* within(
            Effect.promise(() => acks.until(() => acks.progressAcks(h.id) >= 5 || acks.deliveries(h.id).length > 1))
          )
          const seen = { deliveries: acks.deliveries(h.id), progressAcks: acks.progressAcks(h.id) }
          yield* Job.interrupt(h)
          return seen
        }),
        undefined,
        prefix
      )
      expect(value.deliveries).toEqual([1])
      expect(value.progressAcks).toBeGreaterThanOrEqual(5)
      expect(d.runs.filter(([def, n]) => def === "endless" && n === 901)).toHaveLength(1)
    } finally {
      await w.stop()
      await acks.close()
    }
  })

  it("a worker's pool bounds its jobs (sampled inside them) as in-process", async () => {
    poolRunning = 0
    poolMost = 0
    const w = startWorker(server.url, "pools", {
      prefix: "pools",
      concurrency: 8,
      pools: { p: { concurrency: 2 } },
      definitions: [...d.all, pooled]
    })
    try {
      const { value } = await fire(
        server.url,
        Effect.forEach(
          Array.from({ length: 12 }, (_, n) => n),
          (n) => Job.fork(pooled.make({ n }), { pool: "p" })
        ).pipe(Effect.flatMap((hs) => within(Effect.forEach(hs, Job.join)))),
        { concurrency: 100, pools: { p: { concurrency: 12 } } },
        "pools"
      )
      expect(value).toEqual(Array.from({ length: 12 }, (_, n) => n))
      expect(poolMost).toBeLessThanOrEqual(2)
      expect(poolMost).toBe(2) // side by side up to the bound
    } finally {
      await w.stop()
    }
  })

  it("Supervisor.watch on the firing side shows a remote job running on a worker", async () => {
    const w = startWorker(server.url, "watched", { prefix: "watched" })
    try {
      const { value } = await fire(
        server.url,
        Effect.gen(function* () {
          const h = yield* forkRunning(902)
          const first = yield* Stream.runHead(Supervisor.watch("1 minute"))
          yield* Job.interrupt(h)
          return { id: h.id, running: first._tag === "Some" ? first.value.running.map((j) => j.id) : [] }
        }),
        undefined,
        "watched"
      )
      expect(value.running).toEqual([value.id])
    } finally {
      await w.stop()
    }
  })
})
