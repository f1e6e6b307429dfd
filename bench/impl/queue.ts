/**
 * "queue": effect 4's own `Queue`, the baseline an Effect user has without a
 * channel library. Same fiber structure as "ours" (see ours.ts).
 *
 * - End of stream is `Queue.end` (the queue's error channel carries
 *   `Cause.Done`); the consumer loop stops at the `Done` failure.
 * - W2 uses `Queue.bounded(0)`: in effect 4.1 a capacity-0 queue is a
 *   rendezvous (an offer waits for a taker), so no capacity-1 stand-in is needed.
 * - W4: `Queue` has no select. Racing four `Queue.take`s with `Effect.raceAll`
 *   is not guaranteed to be loss-free (a losing take may already have removed
 *   a value when it is interrupted), so the consumer polls the queues from a
 *   rotating start and, only when all are empty, waits with
 *   `Effect.raceAll` of `Queue.peek`s (peek does not consume), then polls again.
 */
import { type Cause, Effect, Fiber, Option, Pull, Queue } from "effect"
import type { Implementation, Tally } from "../workloads.ts"

const produce = <E>(queue: Queue.Enqueue<number, E>, from: number, step: number, count: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < count; i++) yield* Queue.offer(queue, from + i * step)
  })

const drain = (queue: Queue.Queue<number, Cause.Done>) =>
  Effect.suspend(() => {
    let count = 0
    let sum = 0
    return Effect.gen(function* () {
      for (;;) {
        sum += yield* Queue.take(queue)
        count++
      }
    }).pipe(Pull.catchDone(() => Effect.sync((): Tally => ({ count, sum }))))
  })

export const impl: Implementation = {
  w1: (n, buffer) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const queue = yield* Queue.bounded<number, Cause.Done>(buffer)
        const producer = yield* Effect.forkChild(Effect.andThen(produce(queue, 0, 1, n), Queue.end(queue)))
        const tally = yield* drain(queue)
        yield* Fiber.join(producer)
        return tally
      })
    ),

  w2: (n) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const ping = yield* Queue.bounded<number>(0)
        const pong = yield* Queue.bounded<number>(0)
        const echo = yield* Effect.forkChild(
          Effect.gen(function* () {
            for (let i = 0; i < n; i++) yield* Queue.offer(pong, yield* Queue.take(ping))
          })
        )
        let sum = 0
        for (let i = 0; i < n; i++) {
          yield* Queue.offer(ping, i)
          sum += yield* Queue.take(pong)
        }
        yield* Fiber.join(echo)
        return { count: n, sum }
      })
    ),

  w3: (n, producers, buffer) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const queue = yield* Queue.bounded<number, Cause.Done>(buffer)
        const per = n / producers
        const feeding = yield* Effect.forkChild(
          Effect.andThen(
            Effect.all(
              Array.from({ length: producers }, (_, p) => produce(queue, p, producers, per)),
              { concurrency: "unbounded", discard: true }
            ),
            Queue.end(queue)
          )
        )
        const tally = yield* drain(queue)
        yield* Fiber.join(feeding)
        return tally
      })
    ),

  w4: (n, channels, buffer) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const queues = yield* Effect.all(Array.from({ length: channels }, () => Queue.bounded<number>(buffer)))
        const per = n / channels
        const feeding = yield* Effect.forkChild(
          Effect.all(
            queues.map((queue, c) => produce(queue, c * per, 1, per)),
            { concurrency: "unbounded", discard: true }
          )
        )
        const awaitAny = Effect.raceAll(queues.map((queue) => Queue.peek(queue)))
        let sum = 0
        let start = 0
        for (let received = 0; received < n; ) {
          let taken = false
          for (let k = 0; k < channels && !taken; k++) {
            const value = yield* Queue.poll(queues[(start + k) % channels])
            if (Option.isSome(value)) {
              sum += value.value
              received++
              taken = true
            }
          }
          start = (start + 1) % channels
          if (!taken) yield* awaitAny
        }
        yield* Fiber.join(feeding)
        return { count: n, sum }
      })
    )
}
