import { Effect, Fiber, Option } from "effect"
import { describe, expect, it } from "vitest"
import { Chan } from "../src/index.js"

describe("smoke", () => {
  it("put/take", async () => {
    const r = await Effect.runPromise(
      Effect.gen(function* () {
        const ch = yield* Chan.make<number>(2)
        const f = yield* Effect.forkChild(
          Effect.gen(function* () {
            for (let i = 0; i < 10; i++) yield* Chan.put(ch, i)
            yield* Chan.close(ch)
          })
        )
        const out: number[] = []
        for (let v = yield* Chan.take(ch); Option.isSome(v); v = yield* Chan.take(ch)) out.push(v.value)
        yield* Fiber.join(f)
        return out
      })
    )
    expect(r).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })
  it("select", async () => {
    const r = await Effect.runPromise(
      Effect.gen(function* () {
        const a = yield* Chan.make<number>()
        const b = yield* Chan.make<string>()
        yield* Effect.forkChild(Chan.put(b, "x"))
        const x = yield* Chan.select([Chan.onTake(a, (v) => v), Chan.onTake(b, (v) => v)])
        const y = yield* Chan.select([Chan.onTake(a, (v) => v)], { orElse: () => "none" })
        const z = yield* Chan.select([Chan.onTake(a, (v) => v), Chan.onTimeout(5, () => "t")])
        return [x, y, z]
      })
    )
    expect(r).toEqual([Option.some("x"), "none", "t"])
  })
})
