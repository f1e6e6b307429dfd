/**
 * `select` with a timeout: wait for the first of two replicas to answer, but never longer than a
 * deadline; then the same with the Promise facade, for code that does not use Effect.
 *
 * Run: `npx tsx --conditions=tributary:source examples/channels/select-timeout.ts`
 */
import { Chan } from "@tributary/channel"
import { chan, onTake, onTimeout, select } from "@tributary/channel/async"
import { type Duration, Effect, Option } from "effect"

const replica = (name: string, latency: Duration.Input) =>
  Effect.gen(function* () {
    const reply = yield* Chan.promiseChan<string>()
    yield* Effect.forkChild(Effect.andThen(Effect.sleep(latency), Chan.put(reply, `${name} answered`)))
    return reply
  })

const program = Effect.gen(function* () {
  const east = yield* replica("east", "500 millis") // far behind west: it wins even on a loaded machine
  const west = yield* replica("west", "10 millis")
  const first = yield* Chan.select([
    Chan.onTake(
      east,
      Option.getOrElse(() => "east closed")
    ),
    Chan.onTake(
      west,
      Option.getOrElse(() => "west closed")
    ),
    Chan.onTimeout("1 second", () => "no replica answered in time")
  ])
  yield* Effect.log(`effect: ${first}`)

  const slow = yield* replica("slow", "1 hour")
  const late = yield* Chan.select([
    Chan.onTake(
      slow,
      Option.getOrElse(() => "slow closed")
    ),
    Chan.onTimeout("20 millis", () => "deadline passed")
  ])
  yield* Effect.log(`effect: ${late}`)
})

const withPromises = async () => {
  const replies = chan<string>()
  setTimeout(() => void replies.put("west answered"), 10)
  const first = await select([onTake(replies, (r) => (r.done ? "closed" : r.value)), onTimeout(1000, () => "late")])
  console.log(`promise: ${first}`)
}

Effect.runPromise(program).then(withPromises)
