/**
 * Bad input a new user gives, against a real nats-server: a definition whose `run` throws or
 * returns no Effect (the job dies with a typed defect, the worker goes on), a payload JSON cannot
 * carry (the job dies at once in the firing process, never published), and two prefixes that name
 * the same streams (a typed error naming the prefix).
 */
import { Job } from "@tributary/jobs"
import { Cause, Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import * as d from "./fixtures/definitions.js"
import { fire, outcomeLines, startWorker } from "./harness.js"
import { available, skipReason, suiteServer } from "./server.js"

if (!available) console.log(skipReason)

const N = Schema.Struct({ n: Schema.Number })
const throwing = Job.define({
  name: "throwing",
  payload: N,
  run: ({ n }): Effect.Effect<number> => {
    throw new Error(`thrown ${n}`)
  }
})
const promising = Job.define({
  name: "promising",
  payload: N,
  run: (({ n }: { n: number }) => Promise.resolve(n)) as unknown as (p: { n: number }) => Effect.Effect<number>
})

/** the defect of a failed exit */
const defectOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) ? exit.cause.reasons.find(Cause.isDieReason)?.defect : undefined

describe.skipIf(!available)("bad input", () => {
  const server = suiteServer()

  it("a run that throws or returns no Effect dies with a typed defect, once; the worker goes on", async () => {
    const w = startWorker(server.url, "careless", { definitions: [throwing, promising, d.square], attempts: 3 })
    try {
      const { value, lines } = await fire(
        server.url,
        Effect.gen(function* () {
          const thrown = yield* Job.await(yield* Job.fork(throwing.make({ n: 1 })))
          const promised = yield* Job.await(yield* Job.fork(promising.make({ n: 2 })))
          const after = yield* Job.join(yield* Job.fork(d.square.make({ n: 5 })))
          return { thrown, promised, after }
        }).pipe(Effect.timeout("20 seconds")) // a safety net: both hung for ever
      )
      expect(defectOf(value.thrown)).toMatchObject({ message: "thrown 1" })
      expect(defectOf(value.promised)).toMatchObject({ _tag: "JobArgumentError", argument: "run" })
      expect(value.after).toBe(25)
      // each ended once (a defect is final: not redelivered)
      expect([...outcomeLines(lines).values()].map((ls) => ls.length)).toEqual([1, 1, 1])
    } finally {
      await w.stop()
    }
  })
})
