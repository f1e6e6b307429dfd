import { Effect, Exit, Fiber, Option } from "effect"
import { Chan } from "../../src/index.js"
import { pending } from "../harness.js"

// Take on fixed(1) with a full buffer and a pending putter P; P's continuation (run synchronously
// when the take pulls its value in) interrupts the taker.
const scenario = (cap: number) =>
  Effect.gen(function* () {
    const ch = Chan.makeUnsafe<string>(cap)
    if (cap > 0) for (let i = 0; i < cap; i++) Chan.offerUnsafe(ch, `b${i}`)
    let takerFiber: Fiber.Fiber<Option.Option<string>> | undefined
    const putter = yield* Effect.forkChild(
      Effect.gen(function* () {
        const ok = yield* Chan.put(ch, "p")
        if (takerFiber) takerFiber.interruptUnsafe()
        return ok
      })
    )
    yield* Effect.yieldNow
    yield* Effect.yieldNow
    console.log("pending", pending(ch))
    takerFiber = yield* Effect.forkChild(Chan.take(ch))
    const te = yield* Fiber.await(takerFiber)
    const pe = yield* Fiber.await(putter)
    const rest: Array<string> = []
    for (;;) {
      const o = Chan.pollUnsafe(ch)
      if (Option.isNone(o)) break
      rest.push(o.value)
    }
    console.log(
      cap,
      "taker:",
      Exit.isSuccess(te) ? te.value : "interrupted",
      "putter:",
      Exit.isSuccess(pe) ? pe.value : "interrupted",
      "remaining:",
      rest
    )
  })
await Effect.runPromise(scenario(0))
await Effect.runPromise(scenario(1))
