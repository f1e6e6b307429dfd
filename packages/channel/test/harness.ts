/**
 * Shared scaffolding for the channel tests: a runner with `TestClock`, the buffer kinds every
 * behaviour is run across, and a view of a channel's pending queues.
 */
import { Effect, type Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Buffer, Chan } from "../src/index.js"
import type { ChanCore } from "../src/internal/channel.js"

/** Runs `effect` with a `TestClock` (time moves only through `TestClock.adjust`). */
export const run = <A, E>(effect: Effect.Effect<A, E, never>): Promise<A> =>
  Effect.runPromise(Effect.provide(effect, TestClock.layer()))

/** Runs `effect` and returns its Exit (for defects and interruption). */
export const runExit = <A, E>(effect: Effect.Effect<A, E, never>) =>
  Effect.runPromise(Effect.exit(Effect.provide(effect, TestClock.layer())))

/** Lets every fiber that can make progress do so (a few scheduler turns). */
export const settle: Effect.Effect<void> = Effect.gen(function* () {
  for (let i = 0; i < 10; i++) yield* Effect.yieldNow
})

/** Whether `fiber` is still suspended after everything else settled. */
export const isSuspended = <A, E>(fiber: Fiber.Fiber<A, E>): Effect.Effect<boolean> =>
  Effect.map(settle, () => fiber.pollUnsafe() === undefined)

/** The kinds of channel a behaviour must hold for. `capacity` is how many puts complete without a taker. */
export interface Kind {
  readonly name: string
  readonly policy: "rendezvous" | "fixed" | "dropping" | "sliding" | "promise"
  readonly capacity: number
  readonly make: <A>(options?: Chan.Options<A>) => Chan.Chan<A>
}

export const kinds: ReadonlyArray<Kind> = [
  { name: "rendezvous", policy: "rendezvous", capacity: 0, make: (o) => Chan.makeUnsafe(0, o) },
  { name: "fixed(1)", policy: "fixed", capacity: 1, make: (o) => Chan.makeUnsafe(1, o) },
  { name: "fixed(3)", policy: "fixed", capacity: 3, make: (o) => Chan.makeUnsafe(Buffer.fixed(3), o) },
  { name: "dropping(2)", policy: "dropping", capacity: 2, make: (o) => Chan.makeUnsafe(Buffer.dropping(2), o) },
  { name: "sliding(2)", policy: "sliding", capacity: 2, make: (o) => Chan.makeUnsafe(Buffer.sliding(2), o) },
  { name: "promise", policy: "promise", capacity: 1, make: (o) => Chan.promiseUnsafe(o) }
]

/** The channel kinds that deliver every accepted value exactly once, in order (no dropping, no promise). */
export const fifoKinds = kinds.filter((k) => k.policy === "rendezvous" || k.policy === "fixed")

/** How many puts and takes are pending on `ch` (registered handlers). */
export const pending = (ch: Chan.ReadPort<unknown> | Chan.WritePort<never>): { puts: number; takes: number } => {
  const core = ch as unknown as ChanCore
  return { puts: core.putters.size, takes: core.takers.size }
}
