/**
 * The monitor page in a real browser: Debian's Chromium (`/usr/bin/chromium`, or `CHROMIUM`)
 * driven by `playwright-core`, against a real supervisor on the real clock (the page is a real
 * client: it cannot read a TestClock). Every wait is on a condition of the page
 * (`waitForFunction`), never a fixed sleep. "Within a second" is counted in events, not read off
 * the clock: the page shows a change after at most 10 of its 100-millis events. One test writes a
 * screenshot of the page during a run: to the temporary folder, or to the path in
 * `MONITOR_SCREENSHOT` (`MONITOR_SCREENSHOT=docs/monitor.png` refreshes the README's picture), so a
 * test run leaves the checked-in picture alone.
 */
import { existsSync, mkdirSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Job, Supervisor } from "@tributary/jobs"
import { Deferred, Effect, Exit, Logger, Scope } from "effect"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Monitor } from "../src/index.js"
import { openEvents } from "./client.js"

/** What the functions run in the page use of it (this project compiles without the DOM library). */
declare const document: {
  readonly getElementById: (id: string) => { readonly textContent: string | null } | null
  readonly body: { readonly dataset: Record<string, string | undefined> }
}

const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium"
const hasChromium = existsSync(executablePath)
if (!hasChromium)
  console.log(`skipped: the monitor page tests need Chromium at ${executablePath} (apt-get install chromium)`)

const screenshot = resolve(
  fileURLToPath(new URL("../../..", import.meta.url)), // a relative MONITOR_SCREENSHOT is from the repository's root
  process.env.MONITOR_SCREENSHOT ?? join(tmpdir(), "tributary-monitor.png")
)

describe.skipIf(!hasChromium)("the monitor page in Chromium", () => {
  let browser: Browser
  let page: Page
  let supervisorScope: Scope.Closeable
  let monitorScope: Scope.Closeable
  let supervisor: Supervisor.Service
  let monitor: Monitor.Monitor
  const consoleErrors: Array<string> = []
  const pageErrors: Array<string> = []
  const requests: Array<string> = []
  const gates: Array<Deferred.Deferred<void>> = []

  /** Runs `effect` with the supervisor. */
  const run = <A, E>(effect: Effect.Effect<A, E, Supervisor.Supervisor>): Promise<A> =>
    Effect.runPromise(Effect.provideService(effect, Supervisor.Supervisor, supervisor))

  /** A new gate: jobs that await it run until it opens. */
  const gate = async () => {
    const g = await Effect.runPromise(Deferred.make<void>())
    gates.push(g)
    return g
  }
  const open = (g: Deferred.Deferred<void>) => Effect.runPromise(Deferred.succeed(g, undefined))

  /** Serves a monitor in a new scope (port 0: a free one). */
  const serve = async (port: number) => {
    monitorScope = await Effect.runPromise(Scope.make())
    monitor = await run(
      Monitor.serve({ port, interval: "100 millis", secretKeys: ["password"] }).pipe(Scope.provide(monitorScope))
    )
  }

  /** How many events the page has rendered. */
  const updates = async (on: Page = page) => Number(await on.evaluate(() => document.body.dataset.updates))

  /**
   * Waits until the page shows these counters, and checks that it took at most 10 events since
   * `before` (10 × the 100 millis interval: within a second of the server's snapshots).
   */
  const showsWithinASecond = async (counts: Record<string, number>, before: number) => {
    await shows(counts)
    expect((await updates()) - before).toBeLessThanOrEqual(10)
  }

  /** Waits until the page shows these counters. */
  const shows = (counts: Record<string, number>) =>
    page.waitForFunction(
      (expected) =>
        Object.entries(expected).every(([k, v]) => document.getElementById(`count-${k}`)?.textContent === String(v)),
      counts
    )

  beforeAll(async () => {
    supervisorScope = await Effect.runPromise(Scope.make())
    supervisor = await Effect.runPromise(
      Supervisor.make({
        name: "etl",
        pools: { partner: { concurrency: 3 }, db: { concurrency: 1 }, clean: { concurrency: 4 } }
      }).pipe(Scope.provide(supervisorScope), Effect.provide(Logger.layer([])))
    )
    await serve(0)
    browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text())
    })
    page.on("pageerror", (e) => pageErrors.push(e.message))
    page.on("request", (r) => requests.push(r.url()))
  })

  afterAll(async () => {
    await browser?.close()
    for (const g of gates) await open(g)
    if (monitorScope !== undefined) await Effect.runPromise(Scope.close(monitorScope, Exit.void))
    if (supervisorScope !== undefined) await Effect.runPromise(Scope.close(supervisorScope, Exit.void))
  })

  it("loads with no console error and nothing from elsewhere, and shows the running and queued counts of the snapshot", async () => {
    const partner = await gate()
    const db = await gate()
    for (let i = 1; i <= 5; i++) await run(Job.fire(Deferred.await(partner), { name: `fetch ${i}`, pool: "partner" }))
    for (let i = 1; i <= 2; i++) await run(Job.fire(Deferred.await(db), { name: `persist batch ${i}`, pool: "db" }))
    await page.goto(monitor.url)
    const snap = await run(Supervisor.snapshot)
    expect([snap.running.length, snap.queued.length]).toEqual([4, 3])
    await shows({ running: snap.running.length, queued: snap.queued.length })
    const running = await page.locator("#running tr td:first-child").allTextContents()
    expect(running).toEqual(snap.running.map((j) => j.name)) // oldest first
    const queued = await page.locator("#queued tr").allTextContents()
    expect(queued.map((row) => row.includes("concurrency"))).toEqual([true, true, true]) // what holds them back
    expect(await page.locator("#status").textContent()).toBe("live")
    expect(consoleErrors).toEqual([])
    expect(pageErrors).toEqual([])
    // self-contained: the page and its stream, nothing from elsewhere (an inline data: icon at most)
    const origin = new URL(monitor.url).origin
    expect(requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith("data:"))).toEqual([])
    expect(requests).toEqual(expect.arrayContaining([monitor.url, `${origin}/events`]))
  })

  it("shows a failure with its message, annotations (no secret) and stack, the charts and percentiles; writes the screenshot", async () => {
    await run(
      Job.fire(Effect.fail(new Error("partner answered 503 three times")), {
        name: "fetch 17",
        annotations: { record: 17, password: "hunter2" }
      })
    )
    await page.waitForFunction(() => document.getElementById("failures")?.textContent?.includes("503 three times"))
    await page.locator("#failures summary").first().click()
    const details = await page.locator("#failures details").first().textContent()
    expect(details).toContain('"record": 17')
    expect(details).toMatch(/Error: partner answered 503 three times\s+at /)
    expect(await page.content()).not.toContain("hunter2")
    // some throughput for the charts (120 short jobs, 4 at a time), the picture while they run
    for (let i = 1; i <= 120; i++) await run(Job.fire(Effect.sleep("80 millis"), { name: `clean ${i}`, pool: "clean" }))
    const before = await updates()
    await page.waitForFunction((n) => Number(document.body.dataset.updates) >= n + 20, before)
    mkdirSync(dirname(screenshot), { recursive: true })
    await page.screenshot({ path: screenshot, fullPage: true })
    expect(statSync(screenshot).size).toBeGreaterThan(10_000)
    await shows({ succeeded: 120 })
    // the charts over time: a line per series with a point per event (20 at least), and the percentiles
    const lines = (selector: string) =>
      page
        .locator(selector)
        .evaluateAll((paths) => paths.map((p) => (p.getAttribute("d")?.split(" ").length ?? 0) >= 20))
    expect(await lines("#chart-activity path")).toEqual([true, true]) // running, queued
    expect(await lines("#chart-throughput path")).toEqual([true, true, true]) // ended/s, failed/s, interrupted/s
    expect(await page.locator("#scale-throughput").textContent()).toMatch(/^max [1-9]/) // jobs ended: a rate above 0
    expect(await page.locator("#pools tr td:first-child").allTextContents()).toEqual([
      "default",
      "partner",
      "db",
      "clean"
    ])
    expect(await lines("#pools tr:last-child svg.spark path")).toEqual([true]) // the clean pool's running + queued
    expect(await page.locator("#d-p50").textContent()).toMatch(/^\d+(\.\d)? (ms|s)$/)
  })

  it("updates within a second when jobs end and start", async () => {
    const beforeEnd = await updates()
    await open(gates[0]) // the partner jobs end
    await showsWithinASecond({ running: 1, queued: 1, succeeded: 125, failed: 1 }, beforeEnd)
    const next = await gate()
    const beforeStart = await updates()
    await run(Job.fire(Deferred.await(next), { name: "fetch 18", pool: "partner" }))
    await showsWithinASecond({ running: 2, started: 128 }, beforeStart)
    expect(await page.locator("#running tr td:first-child").allTextContents()).toEqual(["persist batch 1", "fetch 18"])
  })

  it("shows what holds each queue back: a key at its perKey bound, a pool out of rate tokens", async () => {
    const scope = await Effect.runPromise(Scope.make())
    const held = await gate()
    try {
      const limits = await Effect.runPromise(
        Supervisor.make({
          name: "limits",
          grace: "1 millis", // "export 2" waits an hour for a token: interrupted at once when the test ends
          pools: { api: { perKey: 1 }, slow: { rate: { limit: 1, interval: "1 hour" } } }
        }).pipe(Scope.provide(scope), Effect.provide(Logger.layer([])))
      )
      const runOn = <A, E>(effect: Effect.Effect<A, E, Supervisor.Supervisor>) =>
        Effect.runPromise(Effect.provideService(effect, Supervisor.Supervisor, limits))
      for (const [name, key] of [
        ["call 1", "acct-1"],
        ["call 2", "acct-1"],
        ["call 3", "acct-2"]
      ])
        await runOn(Job.fire(Deferred.await(held), { name, pool: "api", key }))
      for (const name of ["export 1", "export 2"]) await runOn(Job.fire(Deferred.await(held), { name, pool: "slow" }))
      const m = await runOn(Monitor.serve({ interval: "100 millis" }).pipe(Scope.provide(scope)))
      const other = await browser.newPage()
      await other.goto(m.url)
      await other.waitForFunction(
        () =>
          document.getElementById("count-running")?.textContent === "3" &&
          document.getElementById("count-queued")?.textContent === "2"
      )
      const queued = await other
        .locator("#queued tr")
        .evaluateAll((rows) =>
          rows.map((r) =>
            Array.from(r.querySelectorAll("td"), (td: { readonly textContent: string | null }) => td.textContent)
          )
        )
      expect(queued).toEqual([
        ["call 2", "api", "acct-1", "perKey", expect.any(String)],
        ["export 2", "slow", "", "rate", expect.any(String)]
      ])
      const pools = await other
        .locator("#pools tr")
        .evaluateAll((rows) =>
          rows.map((r) =>
            Array.from(r.querySelectorAll("td"), (td: { readonly textContent: string | null }) => td.textContent).slice(
              0,
              5
            )
          )
        )
      expect(pools).toEqual([
        ["default", "0 / \u221e", "0", "", ""],
        ["api", "2 / \u221e", "1", "perKey", ""],
        ["key acct-1", "1 / 1", "1", "perKey", ""],
        ["key acct-2", "1 / 1", "0", "", ""],
        ["slow", "1 / \u221e", "1", "rate", "0 of 1 per 1 h 00 m"]
      ])
      await other.close()
    } finally {
      await open(held)
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  })

  it("off loopback, keeps the ?token= of its address for its stream; without it the page is a 401", async () => {
    const scope = await Effect.runPromise(Scope.make())
    try {
      const guarded = await run(
        Monitor.serve({ host: "0.0.0.0", token: "page-t0ken-0123456789", interval: "100 millis" }).pipe(
          Scope.provide(scope)
        )
      )
      const local = `http://127.0.0.1:${guarded.port}/`
      const other = await browser.newPage()
      expect((await other.goto(local))?.status()).toBe(401)
      await other.goto(`${local}?token=page-t0ken-0123456789`)
      await other.waitForFunction(() => Number(document.body.dataset.updates) >= 2)
      expect(await other.locator("#status").textContent()).toBe("live")
      await other.close()
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  })

  it("turned away by a full server (503, maxConnections), tries again by itself and goes live once a stream is free", async () => {
    const scope = await Effect.runPromise(Scope.make())
    try {
      const full = await run(Monitor.serve({ maxConnections: 1, interval: "100 millis" }).pipe(Scope.provide(scope)))
      const holder = await openEvents(`${full.url}events`) // takes the one stream
      const other = await browser.newPage()
      await other.goto(full.url)
      await other.waitForFunction(() => document.getElementById("status")?.textContent === "reconnecting\u2026")
      expect(await updates(other)).toBe(0)
      holder.close()
      await other.waitForFunction(() => Number(document.body.dataset.updates) >= 1)
      expect(await other.locator("#status").textContent()).toBe("live")
      await other.close()
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  })

  it("keeps working after the server restarts the stream", async () => {
    const port = monitor.port
    await Effect.runPromise(Scope.close(monitorScope, Exit.void))
    await page.waitForFunction(() => document.getElementById("status")?.textContent !== "live")
    await serve(port)
    const later = await gate()
    await run(Job.fire(Deferred.await(later), { name: "after restart", pool: "partner" }))
    await shows({ running: 3, started: 129 })
    await page.waitForFunction(() => document.getElementById("status")?.textContent === "live")
    expect(pageErrors).toEqual([])
  })

  it("charts interruptions per second beside ended and failed", async () => {
    const heights = () =>
      page
        .locator("#chart-throughput path")
        .nth(2)
        .evaluate((path) =>
          (path.getAttribute("d") ?? "").split(" ").map((point: string) => Number(point.split(",")[1]))
        )
    expect(Math.min(...(await heights()))).toBe(68) // none yet: the line lies on the baseline (70 - 2)
    for (let i = 1; i <= 3; i++) await run(Job.fire(Effect.interrupt, { name: `cancelled ${i}`, pool: "clean" }))
    await shows({ interrupted: 3 })
    expect(Math.min(...(await heights()))).toBeLessThan(68)
  })
})
