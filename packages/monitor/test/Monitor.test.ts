/**
 * `Monitor.serve` over real HTTP (no browser): the options it refuses, who may read it, that
 * `/snapshot` is `Supervisor.snapshot`, that secrets are never sent, that `/events` streams the
 * watch with bounded memory per slow client, and that closing the scope ends every connection.
 * Time is `TestClock`'s: each `TestClock.adjust(interval)` makes exactly one new event.
 */

import * as http from "node:http"
import { Job, Supervisor } from "@tributary/jobs"
import { Deferred, Effect } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect, it } from "vitest"
import { Monitor, MonitorArgumentError, MonitorListenError } from "../src/index.js"
import {
  connectInOrder,
  type Events,
  get,
  headersOnly,
  openEvents,
  rawStatusLine,
  statusLineOn,
  until
} from "./client.js"
import { promise, run, settle, tick } from "./harness.js"

describe("Monitor.serve options", () => {
  const refused = (options: Monitor.Options) =>
    run(Effect.flip(Monitor.serve(options))).then((e) => (e instanceof MonitorArgumentError ? e.argument : e))

  it("refuses a bad option with a MonitorArgumentError naming it and the value", async () => {
    expect(await refused(null as any)).toBe("options")
    expect(await refused([] as any)).toBe("options") // an array is no options object
    expect(await refused({ port: 70000 })).toBe("port")
    expect(await refused({ port: 1.5 })).toBe("port")
    expect(await refused({ host: "" })).toBe("host")
    expect(await refused({ host: "not a host!" })).toBe("host") // not "token": it is no address at all
    expect(await refused({ host: "[localhost]" })).toBe("host") // brackets hold an IPv6 address only
    expect(await refused({ host: "[::1" })).toBe("host")
    expect(await refused({ host: "0.0.0.0" })).toBe("token") // off loopback without a token
    expect(await refused({ token: "has space in it, long enough" })).toBe("token")
    expect(await refused({ interval: 0 })).toBe("interval")
    expect(await refused({ interval: "1 nanos" })).toBe("interval") // a snapshot per turn of the event loop
    expect(await refused({ interval: "49 millis" })).toBe("interval")
    // effect would read these as 1 second, 0 and 0: a misspelt or extra unit is refused, not ignored
    expect(await refused({ interval: { seconds: 1, sec: 5 } as any })).toBe("interval")
    expect(await refused({ interval: { second: 5 } as any })).toBe("interval")
    expect(await refused({ interval: {} as any })).toBe("interval")
    expect(await refused({ interval: { seconds: "2" } as any })).toBe("interval")
    expect(await refused({ prot: 8080 } as any)).toBe("prot") // a misspelt option would listen on a random port
    expect(await refused({ secretKeys: ["ok", ""] })).toBe("secretKeys")
    expect(await refused({ secretKeys: ['headers["x-key'] })).toBe("secretKeys") // no closing bracket: matched nothing
    expect(await refused({ secretKeys: ["a..b"] })).toBe("secretKeys")
    expect(await refused({ secretKeys: "password" as any })).toBe("secretKeys")
    expect(await refused({ listLimit: 0 })).toBe("listLimit")
    expect(await refused({ maxConnections: 0 })).toBe("maxConnections")
    expect(await refused({ maxConnections: 2.5 })).toBe("maxConnections")
    expect(await refused({ maxConnections: Number.POSITIVE_INFINITY })).toBe("maxConnections")
    const e = await run(Effect.flip(Monitor.serve({ interval: "0 millis" })))
    expect(e).toBeInstanceOf(MonitorArgumentError)
    expect(e.message).toBe(
      'Invalid Monitor.serve interval: expected a finite duration of at least 50 millis, received "0 millis"'
    )
    const misspelt = await run(Effect.flip(Monitor.serve({ intervall: "1 second" } as any)))
    expect(misspelt).toMatchObject({ argument: "intervall", value: "1 second" })
    expect(misspelt.message).toBe(
      'Invalid Monitor.serve intervall: expected a known option (did you mean interval?); the known ones are port, host, token, interval, secretKeys, listLimit, maxConnections, received "1 second"'
    )
    // a case off, or nothing close: a suggestion only when one is close
    expect((await run(Effect.flip(Monitor.serve({ listlimit: 5 } as any)))).message).toContain(
      "(did you mean listLimit?)"
    )
    expect((await run(Effect.flip(Monitor.serve({ colour: "red" } as any)))).message).not.toContain("did you mean")
  })

  it("a bad value is shown as it is: NaN as NaN, a function as such, a long one cut after 200 characters", async () => {
    const nan = await run(Effect.flip(Monitor.serve({ port: Number.NaN })))
    expect(nan).toMatchObject({ argument: "port", value: Number.NaN })
    expect(nan.message).toBe("Invalid Monitor.serve port: expected an integer from 0 to 65535, received NaN")
    const f = await run(Effect.flip(Monitor.serve({ host: (() => "x") as any })))
    expect(f.message).toBe(
      "Invalid Monitor.serve host: expected a host name or an IP address (an IPv6 one with or without brackets), received a function"
    )
    const long = ["x".repeat(500)]
    const cut = await run(Effect.flip(Monitor.serve({ secretKeys: long.concat("") })))
    expect((cut as MonitorArgumentError).value).toEqual(long.concat(""))
    expect(cut.message).toMatch(/received \["x{198}…$/)
  })

  it("off loopback without a token: the message says a token is required and why; the same host with one serves", async () => {
    const e = await run(Effect.flip(Monitor.serve({ host: "0.0.0.0" })))
    expect(e).toBeInstanceOf(MonitorArgumentError)
    expect((e as MonitorArgumentError).argument).toBe("token")
    expect(e.message).toBe(
      'Invalid Monitor.serve token: expected a token when host is not loopback (host "0.0.0.0"), received undefined'
    )
    expect(
      await run(Effect.map(Monitor.serve({ host: "0.0.0.0", token: "0123456789abcdef" }), (m) => m.port))
    ).toBeGreaterThan(0)
  })

  it("refuses a token shorter than 16 characters, on loopback or off it, naming its length and never the token", async () => {
    for (const options of [
      { host: "0.0.0.0", token: "#" }, // a character no message holds
      { token: "fifteen-chars-x" },
      { token: "sp ace-but-long-enough" }
    ]) {
      const e = await run(Effect.flip(Monitor.serve(options)))
      expect(e).toBeInstanceOf(MonitorArgumentError)
      expect((e as MonitorArgumentError).argument).toBe("token")
      const text = JSON.stringify(e) + e.message + String((e as MonitorArgumentError).value)
      expect(text).not.toContain(options.token)
      expect(e.message).toContain(`received a string of ${options.token.length} character`)
      expect((e as MonitorArgumentError).value).toEqual({ length: options.token.length })
    }
    const e = await run(Effect.flip(Monitor.serve({ host: "0.0.0.0", token: "x" })))
    expect(e.message).toBe(
      "Invalid Monitor.serve token: expected a string of at least 16 visible ASCII characters (no spaces), received a string of 1 character (not shown)"
    )
    // 16 characters is enough
    expect(
      await run(Effect.map(Monitor.serve({ host: "0.0.0.0", token: "0123456789abcdef" }), (m) => m.port))
    ).toBeGreaterThan(0)
  })

  it("fails with a MonitorListenError when the port is taken", async () => {
    const e = await run(
      Effect.gen(function* () {
        const first = yield* Monitor.serve()
        return yield* Effect.flip(Monitor.serve({ port: first.port }))
      })
    )
    expect(e).toBeInstanceOf(MonitorListenError)
    expect((e as MonitorListenError).reason).toMatch(/EADDRINUSE/)
  })
})

describe("Monitor.serve access", () => {
  it("off loopback: 401 without the token or with a wrong one, 200 with Bearer or ?token=", async () => {
    const replies = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve({ host: "0.0.0.0", token: "s3cret-t0ken-0123456789" })
        const base = `http://127.0.0.1:${m.port}`
        const bearer = { authorization: "Bearer s3cret-t0ken-0123456789" }
        return yield* promise(() =>
          Promise.all([
            get(`${base}/`),
            get(`${base}/snapshot`),
            get(`${base}/events`),
            get(`${base}/nowhere`),
            get(`${base}/snapshot?token=wrong`),
            get(`${base}/snapshot`, { authorization: "Bearer wrong" }),
            get(`${base}/snapshot`, bearer),
            get(`${base}/snapshot?token=s3cret-t0ken-0123456789`),
            get(`${base}/?token=s3cret-t0ken-0123456789`),
            get(`${base}/nowhere`, bearer),
            get(`${base}/snapshot`, { authorization: "bearer s3cret-t0ken-0123456789" }), // the scheme in any case
            get(`${base}/snapshot`, { authorization: "Basic s3cret-t0ken-0123456789" })
          ])
        )
      })
    )
    expect(replies.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401, 200, 200, 200, 404, 200, 401])
    expect(replies[0].headers["www-authenticate"]).toMatch(/^Bearer/)
    expect(replies[0].body).not.toMatch(/supervisor/)
    expect(JSON.parse(replies[6].body).supervisor).toBe("supervisor")
    expect(replies[8].headers["content-type"]).toBe("text/html; charset=utf-8")
  })

  it("a loopback host in any case needs no token", async () => {
    expect(await run(Effect.map(Monitor.serve({ host: "LOCALHOST" }), (m) => m.host))).toBe("LOCALHOST")
  })

  it("an IPv6 host with brackets is the same address without: it listens there and answers", async () => {
    const seen = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve({ host: "[::1]" })
        const reply = yield* promise(() => get(`${m.url}snapshot`))
        return { host: m.host, url: m.url.replace(String(m.port), "PORT"), status: reply.status }
      })
    )
    expect(seen).toEqual({ host: "::1", url: "http://[::1]:PORT/", status: 200 })
  })

  it("on loopback without a token: 403 when the Host header is not a loopback name (DNS rebinding)", async () => {
    const [foreign, local, upper, ...malformed] = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve()
        const status = (host: string) =>
          new Promise<number>((resolve, reject) =>
            http
              .get({ host: "127.0.0.1", port: m.port, path: "/snapshot", headers: { host } }, (res) => {
                res.resume()
                resolve(res.statusCode ?? 0)
              })
              .on("error", reject)
          )
        return yield* promise(() =>
          Promise.all([
            status("evil.example"),
            status(`localhost:${m.port}`),
            status(`LocalHost:${m.port}`),
            status(`[::1]:${m.port}`),
            // a loopback name followed by something else is no loopback name
            status("[::1]evil.example"),
            status("[::1].evil.example"),
            status("127.0.0.1:80@evil.example"),
            status("localhost:80:81")
          ])
        )
      })
    )
    expect([foreign, local, upper]).toEqual([403, 200, 200]) // a host name in any case
    expect(malformed).toEqual([200, 403, 403, 403, 403])
  })
})

describe("Monitor.serve odd requests", () => {
  it("a request target URL cannot parse is a 400, with or without the token, and the server goes on", async () => {
    const lines = await run(
      Effect.gen(function* () {
        const open = yield* Monitor.serve()
        const guarded = yield* Monitor.serve({ host: "0.0.0.0", token: "s3cret-t0ken-0123456789" })
        const ask = (port: number, target: string, host = "127.0.0.1") =>
          promise(() => rawStatusLine(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`))
        return [
          yield* ask(open.port, "//["),
          yield* ask(open.port, "//a:b/snapshot"),
          yield* ask(guarded.port, "//["), // before the token is checked: nobody may crash it
          yield* ask(open.port, "/snapshot"),
          yield* ask(open.port, "//snapshot") // "//x" is a host, not a path: the page
        ]
      })
    )
    expect(lines).toEqual([
      "HTTP/1.1 400 Bad Request",
      "HTTP/1.1 400 Bad Request",
      "HTTP/1.1 400 Bad Request",
      "HTTP/1.1 200 OK",
      "HTTP/1.1 200 OK"
    ])
  })
})

describe("Monitor.serve data", () => {
  it("/snapshot is Supervisor.snapshot as JSON (unbounded limits as null), failures with message and stack", async () => {
    const { body, snap } = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve()
        const gate = yield* Deferred.make<void>()
        for (let i = 0; i < 3; i++) yield* Job.fire(Deferred.await(gate), { name: `load-${i}`, pool: "db" })
        yield* Job.fire(Deferred.await(gate), { name: "keyed", pool: "db", key: "k1" })
        yield* Job.fire(Effect.fail(new Error("partner said 503")), { name: "fetch-7", annotations: { record: 7 } })
        yield* settle
        yield* TestClock.adjust("3 seconds") // ages
        const snap = yield* Supervisor.snapshot
        const reply = yield* promise(() => get(`${m.url}snapshot`))
        yield* Deferred.succeed(gate, undefined)
        return { body: JSON.parse(reply.body), snap }
      }),
      { pools: { db: { concurrency: 2 } } }
    )
    const { recentFailures, ...rest } = snap
    const { recentFailures: sentFailures, ...sentRest } = body
    expect(sentRest).toEqual(JSON.parse(JSON.stringify(rest)))
    expect(body.running.map((j: any) => j.name)).toEqual(["load-0", "load-1"])
    expect(body.queued.map((j: any) => j.name)).toEqual(["load-2", "keyed"])
    expect(body.pools[1]).toMatchObject({ name: "db", queued: 2, heldBy: "concurrency", perKey: null })
    expect(body.running[0].ageMillis).toBe(3000)
    expect(sentFailures).toHaveLength(1)
    expect(sentFailures[0]).toMatchObject({
      _tag: "Failure",
      id: recentFailures[0].id,
      name: "fetch-7",
      message: "partner said 503",
      annotations: { record: 7 }
    })
    expect(sentFailures[0].stack).toMatch(/Error: partner said 503\n\s+at /)
    expect(sentFailures[0].exit).toBeUndefined()
  })

  it("a /snapshot body still being sent to one client is sent as is to the next (made once); one asked after is made anew", async () => {
    const seen = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve()
        const gate = yield* Deferred.make<void>()
        const long = "x".repeat(50_000)
        for (let i = 0; i < 400; i++) yield* Job.fire(Deferred.await(gate), { name: `${long}-${i}` }) // ≈ 20 MB
        yield* settle
        // a client that reads the headers, then nothing: the body waits in the server (far beyond the socket buffers)
        const slow = yield* promise(() => headersOnly(`${m.url}snapshot`))
        yield* Job.fire(Deferred.await(gate), { name: "one more" })
        yield* settle
        const meanwhile = JSON.parse((yield* promise(() => get(`${m.url}snapshot`))).body)
        const first = JSON.parse(yield* promise(slow.rest))
        const after = JSON.parse((yield* promise(() => get(`${m.url}snapshot`))).body)
        yield* Deferred.succeed(gate, undefined)
        return [first, meanwhile, after].map((b) => b.running.length)
      }),
      { concurrency: 1000 }
    )
    expect(seen).toEqual([400, 400, 401])
  })

  it("secret annotation and payload paths are never sent, on /snapshot or /events", async () => {
    const secrets = ["hunter2", "tok-123", "key-999", "card-4242", "xkey-777", "pin-0000"]
    const { snapshot, events, page } = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve({
          secretKeys: ["password", "auth.token", "nested.apiKey", "*.card", 'headers["x-api-key"]', "pins[*].pin"]
        })
        const stream = yield* promise(() => openEvents(`${m.url}events`))
        yield* Job.fire(Effect.fail("refused"), {
          name: "login",
          annotations: {
            user: "ann",
            password: "hunter2",
            "auth.token": "tok-123",
            nested: { apiKey: "key-999", keep: 1 },
            billing: { card: "card-4242", country: "NO" },
            headers: { "x-api-key": "xkey-777", accept: "json" },
            pins: [{ pin: "pin-0000", slot: 1 }]
          }
        })
        yield* settle
        yield* tick
        const event = yield* promise(() => stream.waitFor((e) => e.recentFailures.length === 1))
        const reply = yield* promise(() => get(`${m.url}snapshot`))
        const page = yield* promise(() => get(m.url))
        stream.close()
        return { snapshot: reply.body, events: stream.text(), page: page.body, event }
      })
    )
    for (const text of [snapshot, events, page]) for (const s of secrets) expect(text).not.toContain(s)
    const sent = JSON.parse(snapshot).recentFailures[0]
    expect(sent.annotations).toEqual({
      user: "ann",
      nested: { keep: 1 },
      billing: { country: "NO" },
      headers: { accept: "json" },
      pins: [{ slot: 1 }]
    })
    expect(sent.message).toBe("refused")
    expect(events).toContain('"user":"ann"')
  })
})

describe("Monitor.serve hostile values", () => {
  it("annotations whose toJSON or getter throws: /snapshot and /events still answer, the field reads [unreadable]", async () => {
    const boom = () => {
      throw new Error("boom")
    }
    const { snapshot, event, page } = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve({ secretKeys: ["password"] })
        yield* Job.fire(Effect.fail("refused"), {
          name: "odd",
          annotations: {
            json: { toJSON: boom },
            nested: Object.defineProperty({ keep: 1 }, "gone", { get: boom, enumerable: true })
          }
        })
        yield* settle
        const snapshot = yield* promise(() => get(`${m.url}snapshot`))
        const stream = yield* promise(() => openEvents(`${m.url}events`))
        yield* tick
        const event = yield* promise(() => stream.waitFor((e) => e.recentFailures.length === 1))
        stream.close()
        return { snapshot, event, page: yield* promise(() => get(m.url)) }
      })
    )
    expect(snapshot.status).toBe(200)
    const expected = { json: "[unreadable]", nested: { keep: 1, gone: "[unreadable]" } }
    expect(JSON.parse(snapshot.body).recentFailures[0].annotations).toEqual(expected)
    expect(event.recentFailures[0].annotations).toEqual(expected)
    expect(page.status).toBe(200) // the server lives on
  })
})

describe("Monitor.serve /events", () => {
  it("sends the latest snapshot at once, then one per interval, with rates and totals", async () => {
    const seen = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve({ listLimit: 2 })
        const stream = yield* promise(() => openEvents(`${m.url}events`))
        const first = yield* promise(() => stream.waitFor(() => true))
        for (let i = 0; i < 5; i++) yield* Job.fire(Effect.sleep("10 seconds"), { name: `nap-${i}` })
        yield* settle
        yield* tick
        const second = yield* promise(() => stream.waitFor((e) => e.at > first.at))
        yield* TestClock.adjust("10 seconds")
        yield* Supervisor.drain
        yield* tick
        const third = yield* promise(() => stream.waitFor((e) => e.counters.succeeded === 5))
        stream.close()
        return { status: stream.status, first, second, third }
      })
    )
    expect(seen.status).toBe(200)
    expect(seen.first.totals).toEqual({ running: 0, queued: 0, delayed: 0 })
    expect(seen.second.totals.running).toBe(5)
    expect(seen.second.running.map((j: any) => j.name)).toEqual(["nap-0", "nap-1"]) // listLimit
    expect(seen.second.rates.started).toBe(10) // 5 jobs in 500 millis
    expect(seen.third.totals.running).toBe(0)
  })

  it("a client that does not read holds a bounded buffer, skips stale snapshots, then gets the latest", async () => {
    const result = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve({ listLimit: 1000 })
        const gate = yield* Deferred.make<void>()
        const long = "x".repeat(1000)
        for (let i = 0; i < 400; i++) yield* Job.fire(Deferred.await(gate), { name: `${long}-${i}` })
        yield* settle
        const size = (yield* promise(() => get(`${m.url}snapshot`))).body.length // ≈ one event
        const stream = yield* promise(() => openEvents(`${m.url}events`))
        yield* promise(() => stream.waitFor(() => true))
        stream.pause()
        let worst = 0
        const ticks = 60 // 60 events of ≈ 450 kB: far beyond what the kernel's socket buffers absorb
        for (let i = 0; i < ticks; i++) {
          yield* tick
          yield* promise(() => new Promise((r) => setImmediate(r))) // let the socket flush what it can
          const [c] = yield* m.connections
          worst = Math.max(worst, c.bufferedBytes)
        }
        const last = (yield* Supervisor.snapshot).at
        const [held] = yield* m.connections
        stream.resume()
        yield* promise(() => stream.waitFor((e) => e.at === last))
        const [after] = yield* m.connections
        yield* Deferred.succeed(gate, undefined)
        stream.close()
        return { size, worst, ticks, held, after, received: stream.events.length }
      }),
      { concurrency: 1000 }
    )
    expect(result.held.skipped).toBeGreaterThan(0)
    expect(result.worst).toBeLessThanOrEqual(2 * result.size + 64 * 1024)
    // every event was written or replaced by a newer one, and the client read each one written
    expect(result.after.sent + result.after.skipped).toBe(result.ticks + 1)
    expect(result.received).toBe(result.after.sent)
    expect(result.after.bufferedBytes).toBe(0)
  })

  it("at most maxConnections streams: the next is a 503 saying so, /snapshot still answers, a freed slot is taken", async () => {
    const seen = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve({ maxConnections: 2 })
        const streams = yield* promise(() => Promise.all([openEvents(`${m.url}events`), openEvents(`${m.url}events`)]))
        yield* promise(() => Promise.all(streams.map((s) => s.waitFor(() => true))))
        const refused = yield* promise(() => get(`${m.url}events`))
        const snapshot = yield* promise(() => get(`${m.url}snapshot`))
        streams[0].close()
        yield* promise(() => until(() => Effect.runSync(m.connections).length === 1))
        const again = yield* promise(() => openEvents(`${m.url}events`))
        yield* promise(() => again.waitFor(() => true))
        const open = (yield* m.connections).length
        for (const s of [streams[1], again]) s.close()
        return { refused, snapshot: snapshot.status, again: again.status, open }
      })
    )
    expect(seen.refused.status).toBe(503)
    expect(seen.refused.headers["retry-after"]).toBe("1")
    expect(seen.refused.body).toBe("503: too many open event streams (maxConnections: 2); try again later\n")
    expect(seen).toMatchObject({ snapshot: 200, again: 200, open: 2 })
  })

  it("holds at most 2 × maxConnections sockets: a socket beyond is closed unanswered, the others are served", async () => {
    const seen = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve({ maxConnections: 1 })
        const held = yield* promise(() => connectInOrder(m.port, 2))
        const beyond = yield* promise(() => rawStatusLine(m.port, "GET /snapshot HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
        const answered = yield* promise(() =>
          Promise.all(held.map((s) => statusLineOn(s, "GET /snapshot HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")))
        )
        for (const s of held) s.destroy()
        return { beyond, answered }
      })
    )
    expect(seen.beyond).toBe("") // closed without a byte
    expect(seen.answered).toEqual(["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"])
  })

  it("closing the scope ends every open connection and stops the server", async () => {
    let url = ""
    let streams: Array<Events> = []
    await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve()
        url = m.url
        streams = yield* promise(() => Promise.all([openEvents(`${m.url}events`), openEvents(`${m.url}events`)]))
        yield* promise(() => Promise.all(streams.map((s) => s.waitFor(() => true))))
        expect(yield* m.connections).toHaveLength(2)
      })
    )
    await Promise.all(streams.map((s) => s.closed)) // never resolves if a connection stayed open
    await expect(get(`${url}snapshot`)).rejects.toThrow(/ECONNREFUSED/)
  })
})

describe("Monitor.serve scope", () => {
  it("stops with its own scope while the supervisor lives on: the port can be served again", async () => {
    const [first, again] = await run(
      Effect.gen(function* () {
        const port = yield* Effect.scoped(Effect.map(Monitor.serve(), (m) => m.port))
        const again = yield* Effect.scoped(Effect.map(Monitor.serve({ port }), (m) => m.port))
        return [port, again]
      })
    )
    expect(again).toBe(first)
  })

  it("answers GET and HEAD (HEAD: GET's status and headers, no body); 405 otherwise", async () => {
    const answers = await run(
      Effect.gen(function* () {
        const m = yield* Monitor.serve()
        const ask = (method: string, path: string) =>
          promise(
            () =>
              new Promise<readonly [number, string | undefined, string, string | undefined]>((resolve, reject) =>
                http
                  .request(`${m.url}${path}`, { method, agent: false }, (res) => {
                    let body = ""
                    res.setEncoding("utf8")
                    res.on("data", (chunk) => {
                      body += chunk
                    })
                    res.on("end", () =>
                      resolve([res.statusCode ?? 0, res.headers["content-type"], body, res.headers.allow])
                    )
                  })
                  .on("error", reject)
                  .end()
              )
          )
        return [
          yield* ask("POST", "snapshot"),
          yield* ask("HEAD", ""),
          yield* ask("HEAD", "snapshot"),
          yield* ask("HEAD", "events")
        ]
      })
    )
    expect(answers[0][0]).toBe(405)
    expect(answers[0][3]).toBe("GET, HEAD")
    expect(answers.slice(1).map(([status, type, body]) => [status, type?.split(";")[0], body])).toEqual([
      [200, "text/html", ""],
      [200, "application/json", ""],
      [200, "text/event-stream", ""]
    ])
  })
})
