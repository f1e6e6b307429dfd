/**
 * "queue-race": effect's `Queue` with W4 written as the issue names the peer: each value is taken
 * by `Effect.raceAll` of a `Queue.take` on every queue (effect has no select). W1–W3 are the same
 * programs as "queue". A losing take that had already removed a value would lose it; the workload
 * check (count and sum of 0..n-1) would then fail this run rather than report a number.
 */
import { Effect, Fiber, Queue } from "effect"
import type { Implementation } from "../workloads.ts"
import { impl as queue } from "./queue.ts"

const produce = (target: Queue.Queue<number>, from: number, count: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < count; i++) yield* Queue.offer(target, from + i)
  })

export const impl: Implementation = {
  w1: queue.w1,
  w2: queue.w2,
  w3: queue.w3,
  w4: (n, channels, buffer) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const queues = yield* Effect.all(Array.from({ length: channels }, () => Queue.bounded<number>(buffer)))
        const per = n / channels
        const feeding = yield* Effect.forkChild(
          Effect.all(
            queues.map((q, c) => produce(q, c * per, per)),
            { concurrency: "unbounded", discard: true }
          )
        )
        const takeAny = Effect.raceAll(queues.map((q) => Queue.take(q)))
        let sum = 0
        let count = 0
        for (; count < n; count++) sum += yield* takeAny
        yield* Fiber.join(feeding)
        return { count, sum }
      })
    )
}
