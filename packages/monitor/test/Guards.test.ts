/**
 * Guards for documented behaviours a mutation audit found no test failing for: a run of failures
 * to make a `/snapshot` body is logged once, and a new run after one that could be made is logged
 * again. `toJson` is replaced to throw while `failing.on` holds (what no JSON text can hold, such
 * as a string beyond the engine's limit). Time is `TestClock`'s.
 */
import { Supervisor } from "@tributary/jobs"
import { Effect, Logger } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it, vi } from "vitest"
import { Monitor } from "../src/index.js"
import { get } from "./client.js"
import { promise, settle, tick } from "./harness.js"

const failing = vi.hoisted(() => ({ on: false }))

vi.mock("../src/internal/view.js", async (importOriginal) => {
  const view = await importOriginal<typeof import("../src/internal/view.js")>()
  return {
    ...view,
    toJson: (value: unknown) => {
      if (failing.on) throw new RangeError("Invalid string length")
      return view.toJson(value)
    }
  }
})

describe("Monitor.serve's log of the updates it cannot make", () => {
  it("one error line per run of failures: a run after a snapshot that could be made is logged again", async () => {
    const errors: Array<string> = []
    const capture = Logger.make((o) => {
      if (o.logLevel === "Error") errors.push((o.message as Array<unknown>).map(String).join(" "))
    })
    const program = Effect.gen(function* () {
      const m = yield* Monitor.serve()
      yield* settle
      /** the status of a `/snapshot` asked in the next interval (a body is shared within one) */
      const snapshotStatus = Effect.gen(function* () {
        yield* tick
        yield* settle
        return (yield* promise(() => get(`${m.url}snapshot`))).status
      })
      const statuses: Array<number> = []
      for (const on of [true, true, false, true, true]) {
        failing.on = on
        statuses.push(yield* snapshotStatus)
      }
      failing.on = false
      return statuses
    })
    const statuses = await Effect.runPromise(
      program.pipe(
        Effect.scoped,
        Effect.provide(Supervisor.layer()),
        Effect.provide(Logger.layer([capture])),
        Effect.provide(TestClock.layer())
      )
    )
    expect(statuses).toEqual([500, 500, 200, 500, 500])
    const line = "monitor: could not make a /snapshot body, answered 500: RangeError: Invalid string length"
    expect(errors).toEqual([line, line])
  })
})
