/**
 * The pipelined JetStream publisher against a real nats-server: every publish settles once, in
 * order within its window; a message id published twice is stored once; a subject without a
 * stream, a silent responder (timeout) and a closing scope reject with PublishError; a publish
 * withdrawn while it waits for room is rejected and never sent, one sent cannot be withdrawn.
 */
import { jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import * as connection from "../src/internal/connection.js"
import * as Publisher from "../src/internal/publisher.js"
import { available, skipReason, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

describe.skipIf(!available)("Publisher (pipelined JetStream publishes)", () => {
  const server = suiteServer()

  /** Runs `f` with a publisher (and its connection) in a scope of its own. */
  const withPublisher = <A>(
    timeoutMillis: number,
    window: number,
    f: (p: Publisher.Publisher, stream: string) => Promise<A>
  ): Promise<A> =>
    Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const nc = yield* connection.open([server.url], "publisher-test")
          const stream = `P${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
          yield* Effect.promise(async () => {
            const jsm = await jetstreamManager(nc)
            await jsm.streams.add({
              name: stream,
              subjects: [`${stream}.>`],
              retention: RetentionPolicy.Limits,
              storage: StorageType.File
            })
          })
          const p = yield* Publisher.make(nc, timeoutMillis, window)
          return yield* Effect.promise(() => f(p, stream))
        })
      )
    )

  const stored = async (stream: string): Promise<Array<string>> =>
    Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const nc = yield* connection.open([server.url], "publisher-test-reader")
          return yield* Effect.promise(async () => {
            const jsm = await jetstreamManager(nc)
            const info = await jsm.streams.info(stream)
            const out: Array<string> = []
            for (let seq = 1; seq <= info.state.last_seq; seq++)
              out.push((await jsm.streams.getMessage(stream, { seq }))?.string() ?? "")
            return out
          })
        })
      )
    )

  it("publishes 200 messages 4 at a time: each resolves with its stream sequence once the stream holds it, stored in order", async () => {
    const { stream, seqs } = await withPublisher(5_000, 4, async (p, stream) => {
      const seqs = await Promise.all(
        Array.from({ length: 200 }, (_, i) => p.publish(`${stream}.a`, String(i), `m${i}`))
      )
      return { stream, seqs }
    })
    expect(await stored(stream)).toEqual(Array.from({ length: 200 }, (_, i) => String(i)))
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
  })

  it("a message id published twice is stored once (both publishes resolve, with the stored message's sequence)", async () => {
    const { stream, seqs } = await withPublisher(5_000, 16, async (p, stream) => {
      const first = await p.publish(`${stream}.a`, "first", "other-id")
      const second = await p.publish(`${stream}.a`, "second", "same-id")
      const again = await p.publish(`${stream}.a`, "again", "same-id")
      return { stream, seqs: [first, second, again] }
    })
    expect(await stored(stream)).toEqual(["first", "second"])
    expect(seqs).toEqual([1, 2, 2])
  })

  it("a subject no stream listens on rejects with NoStreamError (a PublishError)", async () => {
    const error = await withPublisher(5_000, 16, (p) =>
      p.publish("nobody.listens.here", "x", "m1").then(
        () => null,
        (e) => e
      )
    )
    expect(error).toBeInstanceOf(Publisher.NoStreamError)
    expect(error).toBeInstanceOf(Publisher.PublishError)
    expect(String(error)).toContain("no stream listens on the subject")
  })

  it("a reply that never comes rejects after the timeout, and frees the window for the next publish", async () => {
    const result = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const nc = yield* connection.open([server.url], "publisher-test-silent")
          nc.subscribe("silent.subject", { callback: () => {} }) // takes the message, never replies
          const stream = `S${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
          yield* Effect.promise(async () => {
            const jsm = await jetstreamManager(nc)
            await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], storage: StorageType.File })
          })
          yield* Effect.promise(() => nc.flush())
          // the timeout bounds the stored publish after it too: 1 s, not 200 ms, so a loaded machine's slow ack is no failure
          const p = yield* Publisher.make(nc, 1_000, 1)
          const silent = p.publish("silent.subject", "x", "s1").then(
            () => "resolved",
            (e: Error) => e.message
          )
          const next = p.publish(`${stream}.a`, "y", "s2").then(() => "stored")
          return yield* Effect.promise(() => Promise.all([silent, next]))
        })
      )
    )
    expect(result).toEqual(["no ack from the stream within 1000 ms", "stored"])
  })

  it("a publish's own deadline bounds it before the ack timeout, sent or still waiting for room (then never sent)", async () => {
    const [result, kept] = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const nc = yield* connection.open([server.url], "publisher-test-deadline")
          nc.subscribe("silent.deadline", { callback: () => {} }) // takes the message, never replies
          const stream = `D${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
          yield* Effect.promise(async () => {
            const jsm = await jetstreamManager(nc)
            await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], storage: StorageType.File })
          })
          yield* Effect.promise(() => nc.flush())
          // an ack timeout far past the test's own timeout: only the deadlines can end these
          const p = yield* Publisher.make(nc, 600_000, 1)
          const outcome = (q: Promise<number>) =>
            q.then(
              () => "resolved",
              (e: Error) => e.message
            )
          const sent = outcome(p.publish("silent.deadline", "x", "d1", undefined, Date.now() + 200))
          // behind it in a window of 1: it waits for room, which the silent publish holds
          const waiting = outcome(p.publish(`${stream}.a`, "y", "d2", undefined, Date.now() + 100))
          const result = yield* Effect.promise(() => Promise.all([sent, waiting]))
          return [result, yield* Effect.promise(() => stored(stream))] as const
        })
      )
    )
    expect(result).toEqual([
      "no ack from the stream by the publish's deadline",
      "no ack from the stream by the publish's deadline"
    ])
    expect(kept).toEqual([])
  })

  it("closing its scope rejects the publishes still waiting", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(
        Effect.gen(function* () {
          const nc = yield* connection.open([server.url], "publisher-test-close")
          nc.subscribe("silent.close", { callback: () => {} })
          yield* Effect.promise(() => nc.flush())
          const p = yield* Publisher.make(nc, 60_000, 1)
          // settled after the scope closes (allSettled handles the rejections as they come)
          return {
            settled: Promise.allSettled([p.publish("silent.close", "a", "c1"), p.publish("silent.close", "b", "c2")])
          }
        })
      )
    )
    expect(Exit.isSuccess(exit)).toBe(true)
    if (!Exit.isSuccess(exit)) return
    const settled = await exit.value.settled
    expect(settled.map((s) => (s.status === "rejected" ? String(s.reason) : "resolved"))).toEqual([
      "PublishError: the connection is closing",
      "PublishError: the connection is closing"
    ])
  })

  it("a publish withdrawn while it waits for room is rejected and never stored; one already sent is not withdrawn", async () => {
    const { outcomes, withdrawn, stream } = await withPublisher(5_000, 1, async (p, stream) => {
      // window 1: the first is sent, the other two wait for its ack
      const all = [
        p.publish(`${stream}.a`, "1", "w1"),
        p.publish(`${stream}.a`, "2", "w2"),
        p.publish(`${stream}.a`, "3", "w3")
      ]
      await Promise.resolve() // the first is sent at the end of this run of code
      const withdrawn = [p.withdraw("w1"), p.withdraw("w2"), p.withdraw("nobody")]
      const outcomes = await Promise.allSettled(all)
      return {
        outcomes: outcomes.map((o) => (o.status === "fulfilled" ? o.value : String(o.reason))),
        withdrawn,
        stream
      }
    })
    expect(withdrawn).toEqual([false, true, false])
    expect(outcomes).toEqual([1, "PublishError: withdrawn before it was sent (w2)", 2])
    expect(await stored(stream)).toEqual(["1", "3"])
  })
})
