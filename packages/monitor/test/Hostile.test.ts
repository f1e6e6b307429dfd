/**
 * `Monitor.serve` against values and sockets that could stop it: a progress value or annotation
 * nested far deeper than `JSON.stringify` (or a naive walk) can go, and sockets that connect and
 * never send a request. Time is `TestClock`'s for the events; Node's own server timeouts are real
 * time, so that test shortens them (`serverTimeouts`) and waits for what the server does, not for
 * a duration.
 */
import type * as net from "node:net"
import { Job } from "@tributary/jobs"
import { Deferred, Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { Monitor } from "../src/index.js"
import { serverTimeouts } from "../src/internal/server.js"
import { maxDepth, tooDeep } from "../src/internal/view.js"
import { connectInOrder, get, openEvents } from "./client.js"
import { promise, run, settle, tick } from "./harness.js"

/** A linked list `length` nodes long: `{ i: length - 1, next: { i: length - 2, next: … { end: true } } }`. */
const linkedList = (length: number): unknown => {
  let list: unknown = { end: true }
  for (let i = 0; i < length; i++) list = { i, next: list }
  return list
}

/** The nodes of a list as sent: their `i`s from the top, and what stands where the list was cut. */
const walk = (sent: any): { readonly is: Array<number>; readonly end: unknown } => {
  const is: Array<number> = []
  let node = sent
  while (typeof node === "object" && node !== null && "next" in node) {
    is.push(node.i)
    node = node.next
  }
  return { is, end: node }
}

describe("Monitor.serve with a value nested 20,000 levels deep", () => {
  it("a running job's progress: /snapshot is a 200 with the list cut at the cap, /events delivers it, and updates go on after the job ended", async () => {
    const seen = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve()
        const stream = yield* promise(() => openEvents(`${m.url}events`))
        yield* promise(() => stream.waitFor(() => true))
        const gate = yield* Deferred.make<void>()
        yield* Job.fire(Effect.andThen(Job.progress(linkedList(20_000)), Deferred.await(gate)), { name: "deep" })
        yield* settle
        const snapshot = yield* promise(() => get(`${m.url}snapshot`))
        yield* tick
        const during = yield* promise(() => stream.waitFor((e) => e.running.length === 1))
        // a page opened now gets it at once too
        const late = yield* promise(() => openEvents(`${m.url}events`))
        const lateFirst = yield* promise(() => late.waitFor(() => true))
        yield* Deferred.succeed(gate, undefined)
        yield* settle
        yield* tick
        const after = yield* promise(() => stream.waitFor((e) => e.counters.succeeded === 1))
        yield* tick
        const later = yield* promise(() => stream.waitFor((e) => e.at > after.at))
        for (const s of [stream, late]) s.close()
        return { snapshot, during, lateFirst, after, later }
      })
    )
    expect(seen.snapshot.status).toBe(200)
    const fromSnapshot = walk(JSON.parse(seen.snapshot.body).running[0].progress)
    expect(fromSnapshot.end).toBe(tooDeep)
    // the top of the list is sent as it is, as many levels as the cap leaves under the snapshot's own
    expect(fromSnapshot.is.slice(0, 3)).toEqual([19_999, 19_998, 19_997])
    expect(fromSnapshot.is.length).toBeGreaterThan(maxDepth - 10)
    expect(fromSnapshot.is.length).toBeLessThan(maxDepth)
    expect(walk(seen.during.running[0].progress)).toEqual(fromSnapshot)
    expect(walk(seen.lateFirst.running[0].progress).end).toBe(tooDeep)
    expect(seen.after.running).toEqual([])
    expect(seen.later.at).toBeGreaterThan(seen.after.at)
  })

  it("a failed job's annotation (kept in the recent failures after the job ended): every request and event is still made", async () => {
    const seen = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve()
        yield* Job.fire(Effect.fail(new Error("plain")), { name: "deep", annotations: { list: linkedList(20_000) } })
        yield* settle
        const snapshot = yield* promise(() => get(`${m.url}snapshot`))
        const stream = yield* promise(() => openEvents(`${m.url}events`))
        yield* tick
        const first = yield* promise(() => stream.waitFor((e) => e.recentFailures.length === 1))
        yield* Job.fire(Effect.void, { name: "later" })
        yield* settle
        yield* tick
        const next = yield* promise(() => stream.waitFor((e) => e.counters.succeeded === 1))
        const page = yield* promise(() => get(m.url))
        stream.close()
        return { snapshot, first, next, page: page.status }
      })
    )
    expect(seen.snapshot.status).toBe(200)
    const failure = JSON.parse(seen.snapshot.body).recentFailures[0]
    expect(failure).toMatchObject({ name: "deep", message: "plain" })
    expect(walk(failure.annotations.list).end).toBe(tooDeep)
    expect(walk(seen.first.recentFailures[0].annotations.list).end).toBe(tooDeep)
    expect(seen.next.recentFailures[0].name).toBe("deep")
    expect(seen.page).toBe(200)
  })

  it("a value that is deeper at every read (a getter making a new object) and a toJSON returning a new toJSON forever are cut too", async () => {
    const endless = (): unknown => ({
      get next() {
        return endless()
      }
    })
    const renewing = { toJSON: (): unknown => renewing }
    const fresh = (): unknown => ({ toJSON: fresh })
    const cycle: Record<string, unknown> = { n: 1 }
    cycle.self = cycle
    const reply = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve()
        const gate = yield* Deferred.make<void>()
        const value = { endless: endless(), fresh: fresh(), renewing, cycle }
        yield* Job.fire(Effect.andThen(Job.progress(value), Deferred.await(gate)), { name: "odd" })
        yield* settle
        const reply = yield* promise(() => get(`${m.url}snapshot`))
        yield* Deferred.succeed(gate, undefined)
        return reply
      })
    )
    expect(reply.status).toBe(200)
    const progress = JSON.parse(reply.body).running[0].progress
    expect(walk(progress.endless).end).toBe(tooDeep)
    expect(progress.fresh).toBe(tooDeep)
    expect(progress.cycle).toEqual({ n: 1, self: "[Circular]" })
  })
})

describe("Monitor.serve with sockets that never send a request", () => {
  const defaults = { ...serverTimeouts }
  afterEach(() => {
    Object.assign(serverTimeouts, defaults)
  })

  it("closes them (408) once the headers are late, so an authorized request is answered again; an open /events stream outlives the limits", async () => {
    Object.assign(serverTimeouts, { headersMillis: 300, requestMillis: 300, checkMillis: 50 })
    const token = "0123456789abcdef0123"
    const seen = await run(
      Effect.gen(function* () {
        // 2 × 2 = 4 sockets at most: the stream and 3 idle ones fill them
        const m = yield* Monitor.serve({ host: "0.0.0.0", token, maxConnections: 2 })
        const base = `http://127.0.0.1:${m.port}`
        const stream = yield* promise(() => openEvents(`${base}/events?token=${token}`))
        const first = yield* promise(() => stream.waitFor(() => true))
        const idle = yield* promise(() => connectInOrder(m.port, 3))
        const answers = yield* promise(() => Promise.all(idle.map(closedWith)))
        const snapshot = yield* promise(() => get(`${base}/snapshot`, { authorization: `Bearer ${token}` }))
        yield* tick
        const next = yield* promise(() => stream.waitFor((e) => e.at > first.at))
        const open = (yield* m.connections).length
        stream.close()
        return { answers, snapshot: snapshot.status, next: next.at - first.at, open }
      })
    )
    expect(seen.answers.map((text) => text.split("\r\n")[0])).toEqual(Array(3).fill("HTTP/1.1 408 Request Timeout"))
    expect(seen).toMatchObject({ snapshot: 200, next: 500, open: 1 })
  })
})

/** Everything the server sends on `socket` until it closes it. */
const closedWith = (socket: net.Socket): Promise<string> =>
  new Promise((resolve) => {
    let text = ""
    socket.setEncoding("utf8")
    socket.on("data", (chunk: string) => {
      text += chunk
    })
    socket.on("error", () => {})
    socket.on("close", () => resolve(text))
  })
