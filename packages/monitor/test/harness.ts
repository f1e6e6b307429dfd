/**
 * What the monitor's tests share: a program run in a scope with a supervisor, a TestClock and no
 * log output; a settle that lets every fiber that can make progress do so; one watch element of
 * the TestClock (the monitor's interval, 500 millis).
 */
import { Supervisor } from "@tributary/jobs"
import { Effect, Logger, type Scope } from "effect"
import { TestClock } from "effect/testing"

/** Runs `program` in a scope, with a supervisor built from `config`, a TestClock and no log output. */
export const run = <A, E>(
  program: Effect.Effect<A, E, Supervisor.Supervisor | Scope.Scope>,
  config: Supervisor.Config = {}
): Promise<A> =>
  Effect.runPromise(
    program.pipe(
      Effect.scoped,
      Effect.provide(Supervisor.layer(config)),
      Effect.provide(Logger.layer([])),
      Effect.provide(TestClock.layer())
    )
  )

/** Lets every fiber that can make progress do so. */
export const settle = Effect.gen(function* () {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow
})

/** A Promise as an Effect (a request on a real socket, say). */
export const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** One more watch element: advances the TestClock by the monitor's interval (500 millis). */
export const tick = TestClock.adjust("500 millis")
