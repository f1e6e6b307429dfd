/**
 * The worker's pull (internal/puller.ts) against a real nats-server: never more held than the
 * room it is given, each message once; a nak'ed message comes back as the next delivery, a termed
 * one never; after `stop` no request is sent; a consumer deleted under it, or one that does not
 * exist (its requests get no answer at all), is reported lost.
 */
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import * as connection from "../src/internal/connection.js"
import * as Puller from "../src/internal/puller.js"
import { available, skipReason, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

describe.skipIf(!available)("Puller (one subscription, one pull request at a time)", () => {
  const server = suiteServer()

  interface Setup {
    /** publishes `n` messages, bodies "0" … "n-1" (from `from`) */
    readonly publish: (n: number, from?: number) => Promise<void>
    readonly pending: () => Promise<number>
    readonly start: (room: () => number, minBatch: number, onMessage: (d: Puller.Delivery) => void) => Puller.Puller
    /** deletes the consumer */
    readonly deleteConsumer: () => Promise<void>
    /** deletes the stream (and with it the consumer) */
    readonly deleteStream: () => Promise<void>
    /** resolves with the description of the next report that the consumer is lost */
    readonly nextLost: () => Promise<string>
  }

  /** Runs `f` with a fresh work-queue stream and pull consumer, on a connection of its own. */
  const withStream = <A>(f: (s: Setup) => Promise<A>): Promise<A> =>
    Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const nc = yield* connection.open([server.url], "puller-test")
          const stream = `Q${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
          const jsm = yield* Effect.promise(() => jetstreamManager(nc))
          yield* Effect.promise(async () => {
            await jsm.streams.add({
              name: stream,
              subjects: [stream],
              retention: RetentionPolicy.Workqueue,
              storage: StorageType.File
            })
            await jsm.consumers.add(stream, {
              durable_name: "w",
              ack_policy: AckPolicy.Explicit,
              ack_wait: 60_000_000_000
            })
          })
          const js = jetstream(nc)
          const troubles: Array<string> = []
          let onLost: ((description: string) => void) | undefined
          /** deleted by the test: reports after the one it awaited are expected (a 409 and the advisories) */
          let deleted = false
          const result = yield* Effect.promise(() =>
            f({
              publish: async (n, from = 0) => {
                for (let i = from; i < from + n; i++) await js.publish(stream, String(i))
              },
              pending: async () => (await jsm.consumers.info(stream, "w")).num_pending,
              deleteConsumer: async () => {
                deleted = true
                await jsm.consumers.delete(stream, "w")
              },
              deleteStream: async () => {
                deleted = true
                await jsm.streams.delete(stream)
              },
              nextLost: () =>
                new Promise((resolve) => {
                  onLost = resolve
                }),
              start: (room, minBatch, onMessage) =>
                Puller.start({
                  nc,
                  stream,
                  consumer: "w",
                  expiresMillis: 1_000,
                  minBatch,
                  room,
                  onMessage,
                  onTrouble: (t) => troubles.push(t),
                  onConsumerLost: (description) => {
                    const lost = onLost
                    onLost = undefined
                    if (lost === undefined && !deleted) troubles.push(`lost unexpectedly: ${description}`)
                    else lost?.(description)
                  }
                })
            })
          )
          expect(troubles).toEqual([])
          return result
        })
      )
    )

  it("holds no more than its room (8 of 50), each message once, in order, first deliveries", () =>
    withStream(async (s) => {
      await s.publish(50)
      const seen: Array<string> = []
      const held = new Set<Puller.Delivery>()
      let maxHeld = 0
      await new Promise<void>((done) => {
        const puller = s.start(
          () => 8 - held.size,
          4,
          (d) => {
            held.add(d)
            maxHeld = Math.max(maxHeld, held.size)
            seen.push(`${d.msg.string()}/${d.deliveryCount}`)
            // acked a turn later, as a worker does when the job ends
            setImmediate(() => {
              d.ack()
              held.delete(d)
              if (seen.length === 50) return void puller.stop().then(done)
              puller.poke()
            })
          }
        )
        puller.poke()
      })
      expect(maxHeld).toBeLessThanOrEqual(8)
      expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => `${i}/1`))
      expect(await s.pending()).toBe(0)
    }))

  it("a nak'ed message comes back as its second delivery; a termed one never", () =>
    withStream(async (s) => {
      await s.publish(2)
      const deliveries: Array<[string, number]> = []
      await new Promise<void>((done) => {
        const puller = s.start(
          () => 4,
          1,
          (d) => {
            const body = d.msg.string()
            deliveries.push([body, d.deliveryCount])
            if (body === "0" && d.deliveryCount === 1) d.nak()
            else if (body === "0") {
              d.ack()
              void puller.stop().then(done)
            } else d.term()
          }
        )
        puller.poke()
      })
      expect(deliveries.sort()).toEqual([
        ["0", 1],
        ["0", 2],
        ["1", 1]
      ])
      expect(await s.pending()).toBe(0)
    }))

  it("after stop no request is sent: a message published then stays in the stream", () =>
    withStream(async (s) => {
      const seen: Array<string> = []
      const puller = s.start(
        () => 4,
        1,
        (d) => seen.push(d.msg.string())
      )
      puller.poke() // outstanding on an empty stream until its expiry
      await puller.stop()
      await s.publish(1)
      puller.poke()
      expect(seen).toEqual([])
      expect(await s.pending()).toBe(1)
    }))

  it("a consumer deleted under an outstanding request is reported lost (the server's 409)", () =>
    withStream(async (s) => {
      const puller = s.start(
        () => 4,
        1,
        () => {}
      )
      const lost = s.nextLost()
      puller.poke() // outstanding on an empty stream
      await s.pending() // the request has reached the server (a request on the same connection answered after it)
      await s.deleteConsumer()
      // the 409 ends the request; the advisory may come first
      expect(await lost).toMatch(/409|the server says the consumer was deleted/)
      await puller.stop()
    }))

  for (const [what, remove] of [
    ["consumer", (s: Setup) => s.deleteConsumer()],
    ["stream", (s: Setup) => s.deleteStream()]
  ] as const)
    it(`a ${what} deleted while no request is outstanding (the worker is full) is reported lost at once, by the server's advisory`, () =>
      withStream(async (s) => {
        const puller = s.start(
          () => 0, // no room: no request is sent, so none can go unanswered
          1,
          () => {}
        )
        const lost = s.nextLost()
        puller.poke()
        await s.pending() // the advisory subscriptions have reached the server (a request on the same connection answered after them)
        await remove(s)
        expect(await lost).toBe("the server says the consumer was deleted") // a stream's deletion deletes its consumers
        await puller.stop()
      }))

  it("a request to a consumer that is gone gets no answer at all: it is reported lost when its time is up", () =>
    withStream(async (s) => {
      await s.deleteConsumer()
      const puller = s.start(
        () => 4,
        1,
        () => {}
      )
      const lost = s.nextLost()
      puller.poke()
      expect(await lost).toContain("no answer")
      await puller.stop()
    }))
})
