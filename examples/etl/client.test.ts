/**
 * The partner client's per-request timeout, against the real partner server holding its answers
 * back: the timeout and the backoff between attempts are effect `Clock` time, so `TestClock`
 * decides when a request has waited too long; each attempt is a real request the partner counts.
 */
import { Cause, Deferred, Effect, Exit, Fiber, Option } from "effect"
import { TestClock } from "effect/testing"
import { afterAll, describe, expect, it } from "vitest"
import { makeClient } from "./client.js"
import { type Partner, startPartner } from "./partner.js"

const started: Array<Partner> = []
afterAll(() => Promise.all(started.map((p) => p.close())))

describe("the partner client", () => {
  it("gives up on a request after its timeout, retries it, and fails with reason timeout after the last attempt", async () => {
    // arrivals: one Deferred per request the partner receives
    const arrivals = Array.from({ length: 3 }, () => Deferred.makeUnsafe<void>())
    let arrived = 0
    const partner = await startPartner({
      latencyMs: 600_000, // never answers within the test
      jitterMs: 0,
      onRequest: () => {
        Deferred.doneUnsafe(arrivals[arrived++]!, Exit.void)
      }
    })
    started.push(partner)
    const retries: Array<[string, number]> = []
    const client = makeClient(partner.url, {
      timeoutMillis: 2000,
      attempts: 2,
      backoffMillis: 50,
      onRetry: (e, attempt) => retries.push([e.reason, attempt])
    })

    const exit = await Effect.runPromise(
      Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(Effect.exit(client.getRecord(2)))
        yield* Deferred.await(arrivals[0]!)
        yield* TestClock.adjust(1999)
        expect(retries).toEqual([]) // not timed out yet
        yield* TestClock.adjust(1) // the first attempt times out; the backoff is at most 50 ms
        for (let i = 0; i < 20; i++) yield* Effect.yieldNow // it reaches the backoff's sleep
        yield* TestClock.adjust(50)
        yield* Deferred.await(arrivals[1]!)
        expect(retries).toEqual([["timeout", 1]])
        yield* TestClock.adjust(2000) // the second and last attempt times out
        return yield* Fiber.join(fiber)
      }).pipe(Effect.provide(TestClock.layer()))
    )
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined
    expect(error).toMatchObject({ _tag: "PartnerError", reason: "timeout", path: "/records/2" })
    expect(error?.message).toBe("GET /records/2: timeout")
    expect(partner.stats().requests).toBe(2)
    expect(retries).toEqual([["timeout", 1]])
  })
})
