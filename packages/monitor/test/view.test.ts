/**
 * What the monitor sends (internal/view.ts): secret paths removed at any depth and through
 * arrays, whole dotted keys matched as one key, JSON that never throws.
 */

import type { Outcome } from "@tributary/jobs"
import { Exit } from "effect"
import { describe, expect, it } from "vitest"
import { maxDepth, parseSecret, snapshotView, toJson, tooDeep, withoutSecrets } from "../src/internal/view.js"

const paths = (...p: Array<string>) =>
  p.map((path) => {
    const parsed = parseSecret(path)
    if (parsed === undefined) throw new Error(`not a path: ${path}`)
    return parsed
  })

describe("parseSecret", () => {
  it("reads pino redact paths: dots, quoted brackets, indexes and wildcards", () => {
    expect(paths("a", "a.b", 'headers["x-api-key"].v', "x['y z']", "list[0]", "list[*].pin", "*.card")).toEqual([
      ["a"],
      ["a", "b"],
      ["headers", "x-api-key", "v"],
      ["x", "y z"],
      ["list", "0"],
      ["list", "*", "pin"],
      ["*", "card"]
    ])
  })

  it("is undefined for what is not a path", () => {
    for (const bad of ["", "a..b", "a.", ".a", 'a["b', "a[b]", "a.[0]", 'a["b"]c', "a]"])
      expect([bad, parseSecret(bad)]).toEqual([bad, undefined])
  })
})

describe("withoutSecrets", () => {
  it("removes top-level keys, nested paths and wildcard segments; copies only along the paths", () => {
    const shared = { deep: true }
    const value = {
      password: "p",
      user: { token: "t", name: "ann" },
      cards: [{ number: "4242", kind: "visa" }],
      shared
    }
    const out = withoutSecrets(value, paths("password", "user.token", "cards.*.number")) as any
    expect(out).toEqual({ user: { name: "ann" }, cards: [{ kind: "visa" }], shared: { deep: true } })
    expect(out.shared).toBe(shared) // untouched branches are not copied
    expect(value.user.token).toBe("t") // the input is not changed
  })

  it("removes keys named in brackets and array elements by index or [*]", () => {
    const value = { headers: { "x-api-key": "k", accept: "json" }, creds: ["c0", "c1"], list: [{ pin: "1", id: 1 }] }
    const out = withoutSecrets(value, paths('headers["x-api-key"]', "creds[0]", "list[*].pin"))
    expect(out).toEqual({ headers: { accept: "json" }, creds: ["c1"], list: [{ id: 1 }] })
  })

  it("leaves values without matching keys, and non-objects, as they are", () => {
    expect(withoutSecrets("password", paths("password"))).toBe("password")
    expect(withoutSecrets({ a: 1 }, [])).toEqual({ a: 1 })
    expect(withoutSecrets([1, 2], paths("*"))).toEqual([])
  })
})

describe("snapshotView", () => {
  it("a failure's annotations lose a flat dotted key named by a path, its exit becomes message and stack", () => {
    const failure: Outcome.Outcome = {
      _tag: "Failure",
      id: "1",
      name: "login",
      pool: "default",
      attempt: 1,
      startedAt: 0,
      endedAt: 5,
      durationMillis: 5,
      exit: Exit.fail(new Error("denied")),
      annotations: { "auth.token": "tok", auth: { token: "tok2", user: "ann" } },
      payload: { password: "p", id: 3 }
    }
    const view = snapshotView(
      { running: [], queued: [], delayed: [], recentFailures: [failure] } as any,
      paths("auth.token", "password")
    )
    const [f] = view.recentFailures
    expect(f.annotations).toEqual({ auth: { user: "ann" } })
    expect(f.payload).toEqual({ id: 3 })
    expect(f.message).toBe("denied")
    expect(f.stack).toMatch(/^Error: denied/)
    expect("exit" in f).toBe(false)
  })

  it("the pino paths of a defined job's payload (its field is named job.payload) apply to the payload", () => {
    const failure = {
      _tag: "Failure",
      id: "2",
      name: "login",
      pool: "default",
      attempt: 1,
      startedAt: 0,
      endedAt: 5,
      durationMillis: 5,
      exit: Exit.fail(new Error("denied")),
      payload: { user: "ann", password: "S3CRET" }
    } as Outcome.Outcome
    const viewWith = (...p: Array<string>) =>
      snapshotView({ running: [], queued: [], delayed: [], recentFailures: [failure] } as any, paths(...p))
        .recentFailures[0]
    // the path docs/production.md gives pino
    expect(viewWith('["job.payload"].password', "err.password").payload).toEqual({ user: "ann" })
    expect("payload" in viewWith('["job.payload"]')).toBe(false)
    expect(viewWith("other").payload).toEqual({ user: "ann", password: "S3CRET" })
  })

  it("a failure or defect that is not an Error, and an Error's cause chain, are rendered without the secret paths", () => {
    const base = { id: "3", name: "n", pool: "p", attempt: 1, startedAt: 0, endedAt: 1, durationMillis: 1 }
    const failed = (exit: Exit.Exit<unknown, unknown>) => ({ ...base, _tag: "Failure", exit })
    const cyclic: Record<string, unknown> = { code: 7, password: "pw-cycle" }
    cyclic.cause = cyclic
    const view = snapshotView(
      {
        running: [],
        queued: [],
        delayed: [],
        recentFailures: [
          failed(Exit.fail({ code: 401, password: "pw-fail", config: { headers: { authorization: "Bearer t-1" } } })),
          failed(Exit.die({ password: "pw-die", cause: { password: "pw-nested" } })),
          failed(Exit.fail(new Error("refused", { cause: { code: 403, password: "pw-cause" } }))),
          failed(Exit.fail(cyclic))
        ]
      } as any,
      paths("password", "err.config.headers.authorization")
    )
    const text = JSON.stringify(view)
    for (const secret of ["pw-fail", "t-1", "pw-die", "pw-nested", "pw-cause", "pw-cycle"])
      expect(text).not.toContain(secret)
    const [fail, die, withCause, cycle] = view.recentFailures
    expect(fail.message).toBe('{"code":401,"config":{"headers":{}}}')
    expect(die.stack).toContain("[cause]")
    expect(withCause.message).toBe("refused")
    expect(withCause.stack).toMatch(/^Error: refused\n\s+at /) // the Error's own stack is kept
    expect(withCause.stack).toContain('"code":403')
    expect(cycle.message).toContain('"code":7')
  })

  it("a listed job's progress loses the secret paths; without secret paths the lists are the snapshot's", () => {
    const job = (id: string, progress?: unknown) => ({ id, name: "n", pool: "p", ageMillis: 1, progress })
    const snapshot = {
      running: [job("1", { step: 2, token: "tok-run" }), job("2")],
      queued: [job("3", { "auth.token": "tok-flat", keep: true })],
      delayed: [job("4", [{ token: "tok-delayed" }])],
      recentFailures: []
    } as any
    const view = snapshotView(snapshot, paths("token", "auth.token", "*.token"))
    expect(JSON.stringify(view)).not.toContain("tok-")
    expect(view.running.map((j) => j.progress)).toEqual([{ step: 2 }, undefined])
    expect(view.queued[0].progress).toEqual({ keep: true })
    expect(snapshotView(snapshot, []).running).toBe(snapshot.running)
  })

  it("an interrupted or timed-out job has that as its message", () => {
    const base = { id: "2", name: "n", pool: "p", attempt: 1, startedAt: 0, endedAt: 1, durationMillis: 1 }
    const view = snapshotView(
      {
        running: [],
        queued: [],
        delayed: [],
        recentFailures: [
          { ...base, _tag: "Interrupted", exit: Exit.interrupt(1) },
          { ...base, _tag: "TimedOut", exit: Exit.interrupt(1) }
        ]
      } as any,
      []
    )
    expect(view.recentFailures.map((f) => [f.message, f.stack])).toEqual([
      ["interrupted", ""],
      ["timed out", ""]
    ])
  })
})

describe("toJson", () => {
  it("never throws: Infinity as null, bigint as text, a cycle as [Circular]", () => {
    const cyclic: Record<string, unknown> = { n: 1n, limit: Number.POSITIVE_INFINITY }
    cyclic.self = cyclic
    expect(JSON.parse(toJson(cyclic))).toEqual({ n: "1", limit: null, self: "[Circular]" })
  })

  it("never throws: a getter, toJSON or Proxy trap that throws reads as [unreadable], the rest is kept", () => {
    const boom = () => {
      throw new Error("boom")
    }
    const getter = Object.defineProperty({ ok: 1 }, "secret", { get: boom, enumerable: true })
    const trap = new Proxy({}, { ownKeys: boom })
    const shared = { x: 1 }
    const value = { getter, json: { toJSON: boom }, trap, list: [getter], a: shared, b: shared, at: new Date(0) }
    expect(JSON.parse(toJson(value))).toEqual({
      getter: { ok: 1, secret: "[unreadable]" },
      json: "[unreadable]",
      trap: "[unreadable]",
      list: [{ ok: 1, secret: "[unreadable]" }],
      a: { x: 1 },
      b: { x: 1 }, // shared, not a cycle
      at: "1970-01-01T00:00:00.000Z"
    })
    const error = Object.defineProperty(new Error("x"), "message", { get: boom })
    const failure = { id: "4", name: "n", pool: "p", attempt: 1, startedAt: 0, endedAt: 1, durationMillis: 1 }
    const view = snapshotView(
      {
        running: [],
        queued: [],
        delayed: [],
        recentFailures: [{ ...failure, _tag: "Failure", exit: Exit.fail(error) }]
      } as any,
      []
    )
    expect([view.recentFailures[0].message, view.recentFailures[0].stack]).toEqual(["[unreadable]", ""])
    // withoutSecrets copies along the paths, reading each field on its own
    expect(withoutSecrets({ getter, trap }, paths("*.password"))).toEqual({
      getter: { ok: 1, secret: "[unreadable]" },
      trap: "[unreadable]"
    })
  })

  it("never throws on a value deeper than the stack: it is cut maxDepth levels down as [too deep]; a shallower one is sent whole", () => {
    const list = (length: number) => {
      let node: unknown = { end: true }
      for (let i = 0; i < length; i++) node = { i, next: node }
      return node
    }
    const depthOf = (json: string) => {
      let levels = 0
      let node = JSON.parse(json)
      while (typeof node === "object" && node !== null && "next" in node) {
        levels++
        node = node.next
      }
      return { levels, end: node }
    }
    expect(depthOf(toJson(list(20_000)))).toEqual({ levels: maxDepth, end: tooDeep })
    expect(depthOf(toJson(list(500)))).toEqual({ levels: 500, end: { end: true } }) // JSON.stringify could
    // a cycle beside it is still a cycle; each toJSON call counts as a level
    const fresh = (): unknown => ({ toJSON: fresh })
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(JSON.parse(toJson({ deep: list(20_000), cycle, fresh: fresh() }))).toMatchObject({
      cycle: { self: "[Circular]" },
      fresh: tooDeep
    })
  })
})
