/**
 * The Quick start demo: three producers feed a worker pool over a buffered channel; the consumer
 * `select`s between results and a deadline; a promise channel broadcasts "done" to every worker.
 *
 * Run it with `npx -y pnpm@12.4.2 demo`.
 */

import { Buffer, Chan, Xform } from "@tributary/channel"
import { Effect, Fiber, Option } from "effect"

const program = Effect.gen(function* () {
  // urls flow in through a fixed buffer; a transducer drops the ones we already know about
  const urls = yield* Chan.make(8, { name: "urls", xform: Xform.dedupe<string>() })
  const results = yield* Chan.make<string>(Buffer.fixed(4), { name: "results" })
  const done = yield* Chan.promiseChan<true>({ name: "done" })

  const producer = (site: string) =>
    Effect.forEach(["a", "a", "b", "c"], (page) => Chan.put(urls, `https://${site}/${page}`), { discard: true })

  const worker = (id: number) =>
    Effect.gen(function* () {
      while (true) {
        const next = yield* Chan.select([
          Chan.onTake(urls, (url: Option.Option<string>) => url),
          Chan.onTake(done, () => Option.none<string>())
        ])
        if (Option.isNone(next)) return
        yield* Effect.sleep("10 millis") // stands in for the HTTP request
        yield* Chan.put(results, `worker ${id} fetched ${next.value}`)
      }
    })

  const producers = yield* Effect.forkChild(
    Effect.all([producer("one.example"), producer("two.example"), producer("three.example")], {
      concurrency: "unbounded"
    })
  )
  const workers = yield* Effect.forkChild(Effect.all([worker(1), worker(2)], { concurrency: "unbounded" }))

  let received = 0
  while (received < 9) {
    const line = yield* Chan.select([
      Chan.onTake(results, (r: Option.Option<string>) => r),
      Chan.onTimeout("1 second", () => Option.none<string>())
    ])
    if (Option.isNone(line)) break
    received++
    yield* Effect.log(line.value)
  }
  yield* Fiber.join(producers)
  yield* Chan.put(done, true) // every worker sees it, forever
  yield* Fiber.join(workers)
  yield* Effect.log(`received ${received} results (duplicates removed by the xform); workers stopped`)
})

Effect.runFork(program)
