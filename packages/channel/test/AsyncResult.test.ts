/**
 * What the async/await API's takes resolve and its waiting puts settle with, on the paths the
 * facade keeps lean (W1 of bench/): a result is a plain `{ value, done }` object as a built-in
 * iterator's (made by the engine's array iterator: `resultOf` in internal/iterator.ts) whatever a
 * program later does to `Array.prototype`, and a put that waits without a signal (its node holds
 * the promise's `resolve` itself) settles as one with a signal does.
 */
import { Chan } from "@tributary/channel"
import { chan, iterate, onTake, put, select } from "@tributary/channel/async"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { pending } from "./harness.js"

/** The own keys, prototype and writability of `r`, as a program could observe them. */
const shape = (r: object) => ({
  keys: Reflect.ownKeys(r),
  proto: Object.getPrototypeOf(r),
  frozen: Object.isFrozen(r)
})
const plain = { keys: ["value", "done"], proto: Object.prototype, frozen: false }

describe("async API results", () => {
  it("take, poll, onTake and the iterator give { value, done: false } as plain objects, like a built-in iterator's", async () => {
    const ch = chan<number | undefined>(4)
    const waiting = ch.take() // waits: settled by the put below
    await ch.put(1)
    await ch.put(undefined)
    await ch.put(3)
    await ch.put(4)
    const taken = await waiting
    const polled = ch.poll()!
    const selected = await select([onTake(ch, (r) => r)])
    const next = await iterate(ch)[Symbol.asyncIterator]().next()
    expect([taken, polled, selected, next]).toStrictEqual([
      { done: false, value: 1 },
      { done: false, value: undefined },
      { done: false, value: 3 },
      { done: false, value: 4 }
    ])
    for (const r of [taken, polled, selected, next]) expect(shape(r)).toStrictEqual(plain)
    expect(shape(taken)).toStrictEqual(shape([0].values().next()))
    // each take has its own object: changing one changes no other
    ;(taken as { value: unknown }).value = 9
    expect(polled.value).toBeUndefined()
  })

  it("a closed and drained channel gives one frozen { value: undefined, done: true }", async () => {
    const ch = chan<number>(1)
    const waiting = ch.take()
    ch.close()
    const done = await waiting
    expect(done).toStrictEqual({ done: true, value: undefined })
    expect(shape(done)).toStrictEqual({ ...plain, frozen: true })
    expect(ch.poll()).toBe(done)
    expect(await iterate(ch)[Symbol.asyncIterator]().next()).toBe(done)
  })

  it("results do not depend on Array.prototype.values or the array iterator's next as the program has them", async () => {
    const arrayIterator = Object.getPrototypeOf([].values()) as { next: unknown }
    const values = Object.getOwnPropertyDescriptor(Array.prototype, "values")!
    const next = Object.getOwnPropertyDescriptor(arrayIterator, "next")!
    const broken = () => {
      throw new Error("replaced by the program")
    }
    const ch = chan<string>(1)
    Object.defineProperty(Array.prototype, "values", { ...values, value: broken })
    Object.defineProperty(arrayIterator, "next", { ...next, value: broken })
    let taken: unknown
    let polled: unknown
    try {
      const waiting = ch.take()
      await ch.put("a")
      await ch.put("b")
      taken = await waiting
      polled = ch.poll()
    } finally {
      Object.defineProperty(Array.prototype, "values", values)
      Object.defineProperty(arrayIterator, "next", next)
    }
    // compared once both are back: the matchers iterate arrays themselves
    expect([taken, polled]).toStrictEqual([
      { done: false, value: "a" },
      { done: false, value: "b" }
    ])
  })
})

describe("a put that waits without a signal", () => {
  it("resolves true once taken, in arrival order", async () => {
    const ch = chan<string>()
    const first = put(ch, "a")
    const second = ch.put("b")
    expect(pending(ch)).toEqual({ puts: 2, takes: 0 })
    expect(await ch.take()).toStrictEqual({ done: false, value: "a" })
    expect(await ch.take()).toStrictEqual({ done: false, value: "b" })
    expect(await Promise.all([first, second])).toEqual([true, true])
  })

  it("resolves false when the channel is discarded before a taker came (its value never delivered)", async () => {
    const undelivered: Array<number> = []
    const ch = chan<number>(1, { onUndelivered: (v) => undelivered.push(v) })
    await ch.put(1)
    const waiting = ch.put(2)
    expect(pending(ch)).toEqual({ puts: 1, takes: 0 })
    expect(await Effect.runPromise(Chan.discard(ch))).toEqual([1])
    expect(await waiting).toBe(false)
    expect(undelivered).toEqual([1])
    expect(pending(ch)).toEqual({ puts: 0, takes: 0 })
  })
})
