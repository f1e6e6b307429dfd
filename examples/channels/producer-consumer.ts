/**
 * Producer/consumer over a fixed buffer: the producer suspends while the buffer is full
 * (backpressure), closes the channel when done, and the consumer drains what is left.
 *
 * Run: `npx tsx --conditions=tributary:source examples/channels/producer-consumer.ts`
 */
import { Chan } from "@tributary/channel"
import { Effect, Fiber, Option } from "effect"

const program = Effect.gen(function* () {
  const orders = yield* Chan.make<{ id: number; total: number }>(4, { name: "orders" })

  const producer = yield* Effect.forkChild(
    Effect.gen(function* () {
      for (let id = 1; id <= 10; id++) yield* Chan.put(orders, { id, total: id * 10 })
      yield* Chan.close(orders) // the consumer still gets everything buffered
    })
  )

  let count = 0
  let revenue = 0
  for (let next = yield* Chan.take(orders); Option.isSome(next); next = yield* Chan.take(orders)) {
    count++
    revenue += next.value.total
  }
  yield* Fiber.join(producer)
  yield* Effect.log(`processed ${count} orders, revenue ${revenue}`)
})

Effect.runFork(program)
