/**
 * The shared argument checks: the "did you mean" rule, a value as a message shows it, and the
 * duration objects effect would misread, and the one abort listener per signal.
 */
import { getEventListeners } from "node:events"
import * as Duration from "effect/Duration"
import { describe, expect, it } from "vitest"
import {
  closestName,
  describeValue,
  durationExpected,
  durationUnits,
  illFormedDuration,
  knownOption,
  wellFormedDurationObject,
  whenAborted
} from "../src/index.js"

describe("closestName", () => {
  const known = ["name", "maxPending", "onUndelivered", "timeout", "priority", "retry"]

  it("suggests a name differing in case, by a prefix of 3 letters or more, or by few edits", () => {
    expect(closestName("timeOut", known)).toBe("timeout")
    expect(closestName("prio", known)).toBe("priority")
    expect(closestName("retries", known)).toBe("retry")
    // two neighbours swapped is one edit
    expect(closestName("nmae", ["id", "name", "pool"])).toBe("name")
    expect(closestName("cnocurrency", ["concurrency", "perKey"])).toBe("concurrency")
    expect(closestName("epar", ["name"])).toBeUndefined()
    expect(closestName("maxPendng", known)).toBe("maxPending")
    expect(closestName("onUndelivred", known)).toBe("onUndelivered")
  })

  it("suggests nothing when no name is close for the key's length", () => {
    expect(closestName("zzz", known)).toBeUndefined()
    expect(closestName("na", known)).toBeUndefined() // a prefix of 2 letters is not enough
    expect(closestName("x", [])).toBeUndefined()
  })

  it("allows 1 edit up to 4 letters, 2 up to 6, 3 beyond", () => {
    expect(closestName("abcd", ["abxy"])).toBeUndefined()
    expect(closestName("abcd", ["abcx"])).toBe("abcx")
    expect(closestName("abcdef", ["abcdxy"])).toBe("abcdxy")
    expect(closestName("abcdef", ["abcxyz"])).toBeUndefined()
    expect(closestName("abcdefgh", ["abcdexyz"])).toBe("abcdexyz")
  })

  it("takes the closest name, the first of equally close ones", () => {
    expect(closestName("TIMEOUT", ["timeouts", "timeout"])).toBe("timeout")
    expect(closestName("port", ["post", "pert"])).toBe("post")
  })
})

describe("knownOption", () => {
  it("lists the known names and says which one was meant", () => {
    expect(knownOption("pot", ["port", "host"])).toBe(
      "a known option (did you mean port?); the known ones are port, host"
    )
    expect(knownOption("zzz", ["port", "host"])).toBe("a known option; the known ones are port, host")
  })
})

describe("describeValue", () => {
  it("shows what JSON would lose", () => {
    expect(describeValue(Number.NaN)).toBe("NaN")
    expect(describeValue(Number.POSITIVE_INFINITY)).toBe("Infinity")
    expect(describeValue(-Infinity)).toBe("-Infinity")
    expect(describeValue(7n)).toBe("7n")
    expect(describeValue(undefined)).toBe("undefined")
    expect(describeValue(null)).toBe("null")
    expect(describeValue(() => 1)).toBe("a function")
    expect(describeValue(Promise.resolve(1))).toBe("a Promise")
    expect(describeValue([1, Number.NaN, { n: 2n }])).toBe('[1,NaN,{"n":2n}]')
  })

  it("shows strings quoted and objects as JSON, toJSON honoured", () => {
    expect(describeValue("5s")).toBe('"5s"')
    expect(describeValue({ second: 5 })).toBe('{"second":5}')
    expect(describeValue(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"')
  })

  it("reads a cycle as [Circular], and the same value twice side by side as itself", () => {
    const o: Record<string, unknown> = { a: 1 }
    o.self = o
    expect(describeValue(o)).toBe('{"a":1,"self":"[Circular]"}')
    const shared = { x: 1 }
    expect(describeValue([shared, shared])).toBe('[{"x":1},{"x":1}]')
  })

  it("cuts a large value after 200 characters, and stops walking it", () => {
    const big = Array.from({ length: 10_000 }, (_, i) => i)
    const text = describeValue(big)
    expect(text).toHaveLength(201)
    expect(text.endsWith("…")).toBe(true)
    expect(describeValue("x".repeat(300))).toBe(`"${"x".repeat(199)}…`)
  })

  it("never throws: a value whose reading throws is its toString", () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error("no")
        }
      }
    )
    expect(describeValue(hostile)).toBe("[object Object]")
  })
})

describe("duration objects", () => {
  it("durationUnits are the units effect reads", () => {
    for (const unit of durationUnits) {
      const one = Duration.fromInput({ [unit]: 1 } as Duration.Input)
      expect(one._tag === "Some" && Duration.toMillis(one.value) > 0).toBe(true)
    }
    expect(durationUnits).toHaveLength(8)
  })

  it("a well-formed object holds only units, each a number (not NaN), one at least", () => {
    expect(wellFormedDurationObject({ seconds: 5 })).toBe(true)
    expect(wellFormedDurationObject({ seconds: 5, millis: undefined })).toBe(false)
    expect(wellFormedDurationObject({ seconds: 5, minutes: undefined })).toBe(true)
    expect(wellFormedDurationObject({ second: 5 })).toBe(false)
    expect(wellFormedDurationObject({ seconds: 1, sec: 5 })).toBe(false)
    expect(wellFormedDurationObject({ seconds: Number.NaN })).toBe(false)
    expect(wellFormedDurationObject({ seconds: "5" })).toBe(false)
    expect(wellFormedDurationObject({})).toBe(false)
    expect(wellFormedDurationObject({ seconds: undefined })).toBe(false)
  })

  it("illFormedDuration holds only for an object that is no Duration, pair or well-formed object", () => {
    expect(illFormedDuration({ second: 5 })).toBe(true)
    expect(illFormedDuration({})).toBe(true)
    expect(illFormedDuration(new Date(0))).toBe(true)
    expect(illFormedDuration({ seconds: 5 })).toBe(false)
    expect(illFormedDuration(Duration.seconds(5))).toBe(false)
    expect(illFormedDuration([1, 0])).toBe(false)
    // a [seconds, nanos] pair needs two numbers, neither NaN (effect reads [NaN, 0] as 0)
    expect(illFormedDuration([Number.NaN, 0])).toBe(true)
    expect(illFormedDuration([5, Number.NaN])).toBe(true)
    expect(illFormedDuration([5])).toBe(true)
    expect(illFormedDuration(["5", 0])).toBe(true)
    expect(illFormedDuration(null)).toBe(false)
    expect(illFormedDuration(Number.NaN)).toBe(false)
    expect(illFormedDuration("5 seconds")).toBe(false)
  })

  it("durationExpected lists the units for an object that is not a Duration", () => {
    expect(durationExpected("a duration ≥ 0", -1)).toBe("a duration ≥ 0")
    expect(durationExpected("a duration ≥ 0", Duration.seconds(-1))).toBe("a duration ≥ 0")
    expect(durationExpected("a duration ≥ 0", [1, 2])).toBe("a duration ≥ 0")
    // a string: the form a duration string takes ("5 secs" is no unit effect knows)
    expect(durationExpected("a duration ≥ 0", "5 secs")).toBe(
      'a duration ≥ 0 (a string is a number, a space and a unit: "5 seconds", "200 millis"; units nanos, micros, millis, seconds, minutes, hours, days, weeks)'
    )
    // a string of the right form whose value is wrong: no word about the form
    expect(durationExpected("a duration ≥ 0", "-1 seconds")).toBe("a duration ≥ 0")
    for (const unit of ["nanos", "micros", "millis", "seconds", "minutes", "hours", "days", "weeks"])
      expect(Duration.fromInput(`2 ${unit}` as Duration.Input)._tag).toBe("Some") // the units the text names are effect's
    expect(durationExpected("a duration ≥ 0", { seconds: -1 })).toBe(
      `a duration ≥ 0 (an object takes one or more of ${durationUnits.join(", ")})`
    )
  })
})

describe("whenAborted", () => {
  it("holds one listener per signal while a callback waits, calls each waiting callback once on abort", () => {
    const controller = new AbortController()
    const calls: Array<string> = []
    const offA = whenAborted(controller.signal, () => calls.push("a"))
    const offB = whenAborted(controller.signal, () => calls.push("b"))
    whenAborted(controller.signal, () => calls.push("c"))
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1)
    offB()
    offB() // idempotent
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1)
    controller.abort()
    controller.abort()
    expect(calls).toEqual(["a", "c"])
    offA() // after the abort: nothing to undo
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0)
  })

  it("an off called by an earlier callback of the same abort stops the later one; each registration is its own", () => {
    const controller = new AbortController()
    const calls: Array<string> = []
    const f = () => calls.push("f")
    let offLater: () => void = () => {}
    whenAborted(controller.signal, () => {
      calls.push("first")
      offLater()
    })
    offLater = whenAborted(controller.signal, () => calls.push("later"))
    whenAborted(controller.signal, f)
    const offSecondF = whenAborted(controller.signal, f)
    whenAborted(controller.signal, f)
    offSecondF()
    controller.abort()
    expect(calls).toEqual(["first", "f", "f"])
  })

  it("a callback that throws stops no other; its error is thrown again, uncaught", async () => {
    const controller = new AbortController()
    const calls: Array<string> = []
    const boom = new Error("boom")
    whenAborted(controller.signal, () => calls.push("a"))
    whenAborted(controller.signal, () => {
      throw boom
    })
    whenAborted(controller.signal, () => calls.push("c"))
    const uncaught: Array<unknown> = []
    const onUncaught = (error: unknown) => uncaught.push(error)
    // vitest's own listener would report the error as the test's: ours alone hears it here
    const others = process.listeners("uncaughtException")
    process.removeAllListeners("uncaughtException")
    process.on("uncaughtException", onUncaught)
    try {
      controller.abort()
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off("uncaughtException", onUncaught)
      for (const listener of others) process.on("uncaughtException", listener)
    }
    expect(calls).toEqual(["a", "c"])
    expect(uncaught).toEqual([boom])
  })

  it("leaves nothing on the signal after the last off, and registers anew after that", () => {
    const { signal } = new AbortController()
    const offs = Array.from({ length: 50 }, () => whenAborted(signal, () => {}))
    for (const off of offs) off()
    expect(getEventListeners(signal, "abort")).toHaveLength(0)
    const off = whenAborted(signal, () => {})
    expect(getEventListeners(signal, "abort")).toHaveLength(1)
    off()
    expect(getEventListeners(signal, "abort")).toHaveLength(0)
  })
})
