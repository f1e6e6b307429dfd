/**
 * The JSON form of values on the wire: plain values as JSON.stringify makes them; a bigint as its
 * String; what JSON cannot hold (a cycle) as the value's String. An interrupted job's outcome, a
 * progress message and its subject; the ids a worker remembers as cancelled (bounded, expiring).
 */
import { Exit } from "effect"
import { describe, expect, it } from "vitest"
import { RecentIds } from "../src/internal/cancel.js"
import {
  decodeHeaders,
  decodeOutcome,
  decodeProgress,
  encodeHeaders,
  encodeOutcome,
  encodeProgress,
  exitOf,
  namesOf,
  progressSubjectOf,
  toJson
} from "../src/internal/wire.js"

describe("toJson", () => {
  it("is JSON.stringify for what JSON holds, undefined as null", () => {
    expect(toJson({ a: [1, "x", null], b: { c: true } })).toBe('{"a":[1,"x",null],"b":{"c":true}}')
    expect(toJson(undefined)).toBe("null")
  })

  it("writes a bigint, anywhere in the value, as its String", () => {
    expect(toJson(12n)).toBe('"12"')
    expect(toJson({ id: 9007199254740993n, xs: [1n] })).toBe('{"id":"9007199254740993","xs":["1"]}')
  })

  it("writes a cycle as [Circular] and keeps the rest; an object seen twice but in no cycle is written twice", () => {
    const cyclic: Record<string, unknown> = { name: "loop", inner: { n: 1 } }
    ;(cyclic.inner as Record<string, unknown>).up = cyclic
    cyclic.self = cyclic
    expect(JSON.parse(toJson(cyclic))).toEqual({ name: "loop", inner: { n: 1, up: "[Circular]" }, self: "[Circular]" })
    const shared = { x: 1 }
    expect(JSON.parse(toJson({ a: shared, b: [shared, shared], big: 2n }))).toEqual({
      a: { x: 1 },
      b: [{ x: 1 }, { x: 1 }],
      big: "2"
    })
  })

  it("an outcome whose value, error or defect holds a cycle keeps its id and tag (it was a bare string, matched to no job)", () => {
    const cyclic: Record<string, unknown> = { status: 500 }
    cyclic.request = { owner: cyclic }
    const error = Object.assign(new Error("boom"), { response: cyclic })
    for (const [exit, tag] of [
      [Exit.succeed(cyclic), "Success"],
      [Exit.fail(error), "Failure"],
      [Exit.die(error), "Defect"]
    ] as const) {
      const o = decodeOutcome(encodeOutcome("i.7.1", exit, "w", 1))
      expect(o).toMatchObject({ id: "i.7.1", tag, worker: "w", delivery: 1 })
    }
    expect(decodeOutcome(encodeOutcome("i.7.1", Exit.succeed(cyclic), "w", 1))?.value).toEqual({
      status: 500,
      request: { owner: "[Circular]" }
    })
    // getters that throw, an object that cannot be made a string: the outcome still arrives
    const throws = () => {
      throw new Error("no")
    }
    const hostile = Object.defineProperty(Object.assign(Object.create(null), { big: 1n }), "bad", {
      enumerable: true,
      get: throws
    })
    const thrower = Object.defineProperty(new Error("x"), "field", { enumerable: true, get: throws })
    for (const exit of [Exit.succeed(hostile), Exit.fail(thrower), Exit.die(hostile)])
      expect(decodeOutcome(encodeOutcome("i.9.1", exit, "w", 1))).toMatchObject({ id: "i.9.1" })
    // a job whose value is undefined (Effect.void) comes back as undefined
    const none = decodeOutcome(encodeOutcome("i.8.1", Exit.succeed(undefined), "w", 1))!
    expect(Exit.isSuccess(exitOf(none)) && exitOf(none)).toMatchObject({ value: undefined })
  })
})

describe("outcomes and progress", () => {
  it("an interrupted job's outcome travels as Interrupted and stands for an interruption", () => {
    const o = decodeOutcome(encodeOutcome("i.7.1", Exit.interrupt(), "w", 2))
    expect(o).toEqual({ id: "i.7.1", tag: "Interrupted", value: null, worker: "w", delivery: 2 })
    expect(Exit.hasInterrupts(exitOf(o!))).toBe(true)
  })

  it("a job's progress goes to its supervisor instance's subject; a malformed message is undefined", () => {
    expect(progressSubjectOf(namesOf("app"), "abc123.7.1")).toBe("app.progress.abc123")
    expect(decodeProgress(encodeProgress("abc123.7.1", { done: 3 }))).toEqual({
      id: "abc123.7.1",
      progress: { done: 3 }
    })
    expect(decodeProgress("not json")).toBeUndefined()
    expect(decodeProgress('{"progress":1}')).toBeUndefined()
  })
})

describe("RecentIds", () => {
  it("holds at most max ids, the oldest dropped first", () => {
    const ids = new RecentIds(2, 60_000)
    ids.add("a", 0)
    ids.add("b", 1)
    ids.add("c", 2)
    expect([ids.has("a"), ids.has("b"), ids.has("c"), ids.size]).toEqual([false, true, true, 2])
  })

  it("drops the ids older than its ttl at the next add", () => {
    const ids = new RecentIds(10, 1_000)
    ids.add("a", 0)
    ids.add("b", 500)
    expect(ids.has("a")).toBe(true)
    ids.add("c", 1_200)
    expect([ids.has("a"), ids.has("b"), ids.has("c")]).toEqual([false, true, true])
  })
})

describe("job headers", () => {
  it("carry a definition, name, pool and key holding CR, LF and % exactly (a header value cannot hold CR or LF)", () => {
    const h = {
      definition: "def\nx",
      name: "line 1\r\nline 2 100%",
      pool: "p%0A",
      key: "k\n%25\r",
      reply: "tributary.outcomes.abc",
      annotations: { note: "a\nb" }
    }
    expect(decodeHeaders(encodeHeaders(h))).toEqual(h)
    const plain = { ...h, definition: "d", name: "José ✓", pool: undefined, key: undefined, annotations: undefined }
    expect(decodeHeaders(encodeHeaders(plain))).toEqual(plain)
  })
})
