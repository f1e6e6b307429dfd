/**
 * `Job.fire`'s remembered supervisor (internal/context.ts): a loop of fires from one context looks
 * the supervisor up once, and a supervisor that has shut down is not kept reachable by it.
 */

import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Job, Supervisor } from "../src/index.js"

setFlagsFromString("--expose-gc")
/** V8's collector, exposed at run time (a fresh context sees the flag). */
const gc = runInNewContext("gc") as () => void

/** Collects until `ref`'s target is gone or 10 rounds have passed (each round lets finalizers and WeakRef bookkeeping run). */
const collected = async (ref: WeakRef<object>): Promise<boolean> => {
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    gc()
    if (ref.deref() === undefined) return true
  }
  return false
}

describe("Job.fire's remembered supervisor", () => {
  it("fires a loop of jobs on the supervisor of the caller's context, then on the next one's", async () => {
    const names: Array<string> = []
    const program = (name: string) =>
      Effect.scoped(
        Effect.gen(function* () {
          const sup = yield* Supervisor.make({ name })
          yield* Effect.provideService(
            Effect.gen(function* () {
              for (let i = 0; i < 100; i++) yield* Job.fire(Effect.void)
              yield* Supervisor.drain
              const s = yield* Supervisor.snapshot
              names.push(`${name}:${s.counters.succeeded}`)
            }),
            Supervisor.Supervisor,
            sup
          )
        })
      )
    await Effect.runPromise(Effect.andThen(program("a"), program("b")))
    expect(names).toEqual(["a:100", "b:100"])
  })

  it("does not keep a supervisor reachable once it has shut down", async () => {
    const ref = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const sup = yield* Supervisor.make({ name: "gone" })
          yield* Effect.provideService(
            Effect.andThen(Job.fire(Effect.void), Supervisor.drain),
            Supervisor.Supervisor,
            sup
          )
          return new WeakRef(sup)
        })
      )
    )
    expect(await collected(ref)).toBe(true)
  })

  it("does not remember a supervisor that is shut down when a fire looks it up", async () => {
    const ref = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const sup = yield* Supervisor.make({ name: "closed" })
          const refused = yield* Effect.provideService(
            Effect.gen(function* () {
              yield* Supervisor.shutdown()
              return yield* Effect.flip(Job.fire(Effect.void))
            }),
            Supervisor.Supervisor,
            sup
          )
          expect(refused._tag).toBe("SupervisorClosedError")
          return new WeakRef(sup)
        })
      )
    )
    expect(await collected(ref)).toBe(true)
  })
})
