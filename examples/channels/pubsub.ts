/**
 * A pub/sub fan-out: order events are published by type; each topic has two subscribers (a
 * database writer and an audit log), and `bufFn` gives each topic its own buffer so a slow
 * subscriber of one topic does not hold back the others. A `Mult` copies every event to a metrics
 * tap as well.
 *
 * Run: `npx tsx --conditions=tributary:source examples/channels/pubsub.ts`
 */
import { Chan, Mult, Pub } from "@tributary/channel"
import { Effect, Fiber } from "effect"

interface OrderEvent {
  readonly type: "created" | "paid" | "shipped"
  readonly order: number
}

const events: ReadonlyArray<OrderEvent> = [
  { type: "created", order: 1 },
  { type: "created", order: 2 },
  { type: "paid", order: 1 },
  { type: "shipped", order: 1 },
  { type: "paid", order: 2 }
]

const subscriber = (name: string, ch: Chan.ReadPort<OrderEvent>) =>
  Effect.map(Chan.toArray(ch), (seen) => `${name}: ${seen.map((e) => `${e.type} #${e.order}`).join(", ")}`)

const program = Effect.scoped(
  Effect.gen(function* () {
    const source = yield* Chan.fromIterable(events)
    const everything = yield* Chan.mult(source)
    const metrics = yield* Chan.make<OrderEvent>(16)
    const forTopics = yield* Chan.make<OrderEvent>(16)
    yield* Mult.tap(everything, metrics)
    yield* Mult.tap(everything, forTopics)

    const byType = yield* Chan.pub(
      forTopics,
      (e: OrderEvent) => e.type,
      () => 8
    )
    const readers: Array<Fiber.Fiber<string>> = []
    for (const topic of ["created", "paid", "shipped"] as const) {
      for (const name of ["db", "audit"]) {
        const ch = yield* Chan.make<OrderEvent>(8)
        yield* Pub.sub(byType, topic, ch)
        readers.push(yield* Effect.forkChild(subscriber(`${name}/${topic}`, ch)))
      }
    }
    const counted = yield* Effect.forkChild(Chan.reduce(metrics, 0, (n) => n + 1))

    for (const line of yield* Fiber.joinAll(readers)) yield* Effect.log(line)
    yield* Effect.log(`metrics saw ${yield* Fiber.join(counted)} events`)
  })
)

Effect.runFork(program)
