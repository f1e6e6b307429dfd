/**
 * The channel's errors are effect tagged errors: `yield*`-able, matched by `_tag`, still
 * `instanceof` their class and `Error`.
 */
import { Cause, Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { Chan, ChanArgumentError, ChanPendingLimitError } from "../src/index.js"

describe("channel errors", () => {
  it("a bad argument dies with ChanArgumentError; catchTag matches a yielded one", async () => {
    const exit = await Effect.runPromiseExit(Chan.make(-1))
    const defect = Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined
    expect(defect).toBeInstanceOf(ChanArgumentError)
    expect(defect).toBeInstanceOf(Error)
    expect((defect as ChanArgumentError)._tag).toBe("ChanArgumentError")
    expect((defect as ChanArgumentError).message).toContain("received -1")
    const caught = await Effect.runPromise(
      Effect.gen(function* () {
        return yield* new ChanArgumentError("buffer size", 1.5, "an integer ≥ 0")
      }).pipe(Effect.catchTag("ChanArgumentError", (e) => Effect.succeed(`${e.argument}: ${e.value}`)))
    )
    expect(caught).toBe("buffer size: 1.5")
  })

  it("a pending put beyond maxPending throws ChanPendingLimitError naming the channel and the limit", () => {
    const ch = Chan.makeUnsafe<number>(0, { name: "jobs", maxPending: 1 })
    Chan.putUnsafe(ch, 1)
    let caught: unknown
    try {
      Chan.putUnsafe(ch, 2)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ChanPendingLimitError)
    expect(caught).toMatchObject({ _tag: "ChanPendingLimitError", side: "put", channel: "jobs", limit: 1 })
  })

  it("Chan.toStream of a value that is not a channel throws ChanArgumentError at the call, naming it", () => {
    for (const bad of [42, {}, null]) {
      let caught: unknown
      try {
        Chan.toStream(bad as never)
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(ChanArgumentError)
      expect(caught).toMatchObject({ _tag: "ChanArgumentError", argument: "Chan.toStream ch", value: bad })
      expect((caught as ChanArgumentError).message).toContain("Invalid Chan.toStream ch")
    }
  })
})
