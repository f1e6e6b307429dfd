/**
 * "ours": the Effect API of @tributary/channel, written the way a user would:
 * `Effect.gen` programs, producers forked as child fibers, run with
 * `Effect.runPromise`. The children run without the `tributary:source` condition,
 * so `@tributary/channel` resolves to the compiled dist/ that bench/run.ts builds from
 * the working tree (as users get it: under tsx, src would get a name-keeping wrapper
 * around every closure).
 */

import { Chan } from "@tributary/channel"
import { Effect, Fiber, Option } from "effect"
import type { Implementation, Tally } from "../workloads.ts"

const produce = (chan: Chan.Chan<number>, from: number, step: number, count: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < count; i++) yield* Chan.put(chan, from + i * step)
  })

const drain = (chan: Chan.Chan<number>) =>
  Effect.gen(function* () {
    let count = 0
    let sum = 0
    for (;;) {
      const value = yield* Chan.take(chan)
      if (Option.isNone(value)) return { count, sum } satisfies Tally
      count++
      sum += value.value
    }
  })

export const impl: Implementation = {
  w1: (n, buffer) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const chan = yield* Chan.make<number>(buffer)
        const producer = yield* Effect.forkChild(Effect.andThen(produce(chan, 0, 1, n), Chan.close(chan)))
        const tally = yield* drain(chan)
        yield* Fiber.join(producer)
        return tally
      })
    ),

  w2: (n) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const ping = yield* Chan.make<number>()
        const pong = yield* Chan.make<number>()
        const echo = yield* Effect.forkChild(
          Effect.gen(function* () {
            for (let i = 0; i < n; i++) {
              const value = yield* Chan.take(ping)
              if (Option.isSome(value)) yield* Chan.put(pong, value.value)
            }
          })
        )
        let count = 0
        let sum = 0
        for (let i = 0; i < n; i++) {
          yield* Chan.put(ping, i)
          const value = yield* Chan.take(pong)
          if (Option.isSome(value)) {
            count++
            sum += value.value
          }
        }
        yield* Fiber.join(echo)
        return { count, sum }
      })
    ),

  w3: (n, producers, buffer) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const chan = yield* Chan.make<number>(buffer)
        const per = n / producers
        const feeding = yield* Effect.forkChild(
          Effect.andThen(
            Effect.all(
              Array.from({ length: producers }, (_, p) => produce(chan, p, producers, per)),
              { concurrency: "unbounded", discard: true }
            ),
            Chan.close(chan)
          )
        )
        const tally = yield* drain(chan)
        yield* Fiber.join(feeding)
        return tally
      })
    ),

  w4: (n, channels, buffer) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const chans = yield* Effect.all(Array.from({ length: channels }, () => Chan.make<number>(buffer)))
        const per = n / channels
        const feeding = yield* Effect.forkChild(
          Effect.all(
            chans.map((chan, c) => produce(chan, c * per, 1, per)),
            { concurrency: "unbounded", discard: true }
          )
        )
        const selectOne = Chan.select(chans.map((chan) => Chan.onTake(chan, (value: Option.Option<number>) => value)))
        let count = 0
        let sum = 0
        for (let i = 0; i < n; i++) {
          const value = yield* selectOne
          if (Option.isSome(value)) {
            count++
            sum += value.value
          }
        }
        yield* Fiber.join(feeding)
        return { count, sum }
      })
    )
}
