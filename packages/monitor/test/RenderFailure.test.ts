/**
 * What `Monitor.serve` does when a snapshot cannot be made into text at all (what no JSON text
 * can hold, such as a string beyond the engine's limit; `toJson` cuts everything else): here
 * `toJson` is replaced to throw whenever a job named "unrenderable" is listed. `/snapshot` answers
 * 500, `/events` skips the update, one error line is logged for a run of failures, and everything
 * goes on once the job is gone. Time is `TestClock`'s.
 */
import { Job, Supervisor } from "@tributary/jobs"
import { Deferred, Effect, Logger } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it, vi } from "vitest"
import { Monitor } from "../src/index.js"
import { get, openEvents } from "./client.js"
import { promise, settle, tick } from "./harness.js"

vi.mock("../src/internal/view.js", async (importOriginal) => {
  const view = await importOriginal<typeof import("../src/internal/view.js")>()
  return {
    ...view,
    toJson: (value: any) => {
      if (value?.running?.some((j: any) => j.name === "unrenderable")) throw new RangeError("Invalid string length")
      return view.toJson(value)
    }
  }
})

describe("Monitor.serve when a snapshot cannot be made", () => {
  it("/snapshot is a 500, /events skips the update, one log line per run of failures; then all goes on", async () => {
    const logged: Array<unknown> = []
    const capture = Logger.make((o) => {
      logged.push([o.logLevel, ...(o.message as Array<unknown>)])
    })
    const program = Effect.gen(function* () {
      const m = yield* Monitor.serve()
      const stream = yield* promise(() => openEvents(`${m.url}events`))
      const first = yield* promise(() => stream.waitFor(() => true))
      const gate = yield* Deferred.make<void>()
      yield* Job.fire(Deferred.await(gate), { name: "unrenderable" })
      yield* settle
      const failed = yield* promise(() => get(`${m.url}snapshot`))
      for (let i = 0; i < 3; i++) yield* tick // three updates that cannot be made
      // a page opened meanwhile gets the last update that could be made
      const late = yield* promise(() => openEvents(`${m.url}events`))
      const lateFirst = yield* promise(() => late.waitFor(() => true))
      const [stats] = yield* m.connections
      yield* Deferred.succeed(gate, undefined)
      yield* settle
      yield* tick
      const after = yield* promise(() => stream.waitFor((e) => e.counters.succeeded === 1))
      const snapshot = yield* promise(() => get(`${m.url}snapshot`))
      for (const s of [stream, late]) s.close()
      return { first, failed, lateFirst, sent: stats.sent, events: stream.events, after, snapshot: snapshot.status }
    })
    const seen = await Effect.runPromise(
      program.pipe(
        Effect.scoped,
        Effect.provide(Supervisor.layer()),
        Effect.provide(Logger.layer([capture])),
        Effect.provide(TestClock.layer())
      )
    )
    expect(seen.failed.status).toBe(500)
    expect(seen.failed.body).toBe("500: the snapshot could not be made (see the program's log)\n")
    expect(seen.lateFirst.at).toBe(seen.first.at)
    expect(seen.sent).toBe(1) // the first stream got only the first event while the job was listed
    expect(seen.events.map((e: any) => e.at)).toEqual([seen.first.at, seen.after.at])
    expect(seen.after.running).toEqual([])
    expect(seen.snapshot).toBe(200)
    expect(logged.filter(([level]: any) => level === "Error")).toEqual([
      ["Error", "monitor: could not make a /snapshot body, answered 500: RangeError: Invalid string length"],
      ["Error", "monitor: could not make an /events update, skipped it: RangeError: Invalid string length"]
    ])
  })
})
