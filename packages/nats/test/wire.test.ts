/**
 * The JSON form of values on the wire: plain values as JSON.stringify makes them; a bigint as its
 * String; what JSON cannot hold (a cycle) as the value's String.
 */
import { describe, expect, it } from "vitest"
import { toJson } from "../src/internal/wire.js"

describe("toJson", () => {
  it("is JSON.stringify for what JSON holds, undefined as null", () => {
    expect(toJson({ a: [1, "x", null], b: { c: true } })).toBe('{"a":[1,"x",null],"b":{"c":true}}')
    expect(toJson(undefined)).toBe("null")
  })

  it("writes a bigint, anywhere in the value, as its String", () => {
    expect(toJson(12n)).toBe('"12"')
    expect(toJson({ id: 9007199254740993n, xs: [1n] })).toBe('{"id":"9007199254740993","xs":["1"]}')
  })

  it("writes a value with a cycle as its String", () => {
    const cyclic: Record<string, unknown> = { name: "loop" }
    cyclic.self = cyclic
    expect(toJson(cyclic)).toBe('"[object Object]"')
  })
})
