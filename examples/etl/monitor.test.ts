/**
 * `--monitor [PORT]` of the ETL job, as a user runs it: the job in its own Node process prints the
 * monitor's URL, the page and `/snapshot` answer while it runs, and the server is gone once the job
 * has ended. The job cannot end before the test has read the page: its partner (started here)
 * holds every request until then, however fast PGlite opens. A bad port is refused like any bad flag;
 * a port in use fails the run with one line that points to `--monitor 0`.
 */
import { mkdtempSync, rmSync } from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { spawnJob } from "./job-process.js"
import { startPartner } from "./partner.js"

const dirs: Array<string> = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** Starts the job; `onUrl` is called once with the monitor's URL from its log. */
const startJob = (args: ReadonlyArray<string>, onUrl: (url: string) => void) => {
  const dir = mkdtempSync(join(tmpdir(), "tributary-etl-monitor-"))
  dirs.push(dir)
  const child = spawnJob(["--data-dir", dir, ...args])
  let stdout = ""
  let stderr = ""
  let seen = false
  child.stdout!.on("data", (d) => (stdout += d))
  child.stderr!.on("data", (d) => {
    stderr += d
    const url = /"msg":"monitor: (http:\/\/[^"]+)"/.exec(stderr)?.[1]
    if (url !== undefined && !seen) {
      seen = true
      onUrl(url)
    }
  })
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })
}

/** GET `url`: its status and body, or the connection error's code. */
const get = (url: string): Promise<{ status: number; body: string } | { error: string }> =>
  new Promise((resolve) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (c: string) => (body += c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
      })
      .on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }))
  })

describe("etl --monitor", () => {
  it("prints the URL; the page and /snapshot answer during the run; the server closes with the job", async () => {
    let url = ""
    let during: Promise<Array<Awaited<ReturnType<typeof get>>>> | undefined
    let read!: () => void
    const pageRead = new Promise<void>((resolve) => {
      read = resolve
    })
    const p = await startPartner({ seed: 1, records: 100, holdUntil: pageRead })
    const run = await startJob(["--monitor", "0", "--partner-url", p.url, "--sample", "0", "--json"], (u) => {
      url = u
      during = Promise.all([get(u), get(`${u}snapshot`)])
      void during.then(read)
    }).finally(() => p.close())
    expect(p.stats().listRequests).toBeGreaterThan(0) // it ran, held until the page was read
    expect(run.code).toBe(0)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    expect(during).toBeDefined()
    const [page, snapshot] = await during!
    expect(page).toMatchObject({ status: 200 })
    expect((page as { body: string }).body).toContain("<title>monitor</title>")
    expect(snapshot).toMatchObject({ status: 200 })
    expect(JSON.parse((snapshot as { body: string }).body).supervisor).toBe("etl")
    expect(await get(`${url}snapshot`)).toEqual({ error: "ECONNREFUSED" })
  }, 180_000) // a new PGlite data folder and a loaded CI machine: well past the default 60 s at times

  it("--keep-monitor: after the summary the page stays up with the final state until Ctrl-C (exit 130)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tributary-etl-monitor-"))
    dirs.push(dir)
    const child = spawnJob([
      "--data-dir",
      dir,
      ...["--records", "40", "--monitor", "0", "--keep-monitor", "--sample", "0", "--json"]
    ])
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (d) => (stdout += d))
    const closed = new Promise<number | null>((resolve, reject) => {
      child.on("error", reject)
      child.on("close", (code) => resolve(code))
    })
    // the line that says the run is over and where the page stays
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on("data", (d) => {
        stderr += d
        const kept = /"msg":"the run is over; the monitor page stays at (http:\/\/[^" ]+) until Ctrl-C"/.exec(stderr)
        if (kept !== null) resolve(kept[1]!)
      })
      void closed.then((code) => reject(new Error(`the job ended (exit ${code}) without keeping its page:\n${stderr}`)))
    })
    // the summary is out before the hold: its JSON line says the run completed
    const summary = JSON.parse(stdout.trim().split("\n").at(-1)!)
    expect(summary).toMatchObject({ stopped: false, error: null })
    const held = await get(`${url}snapshot`)
    expect(held).toMatchObject({ status: 200 })
    const snapshot = JSON.parse((held as { body: string }).body)
    expect(snapshot.totals).toMatchObject({ running: 0, queued: 0 })
    expect(snapshot.counters.succeeded).toBeGreaterThan(0) // the final state, not an empty supervisor
    child.kill("SIGINT")
    expect(await closed).toBe(130)
    expect(await get(`${url}snapshot`)).toEqual({ error: "ECONNREFUSED" })
  }, 180_000)

  it("--keep-monitor without --monitor is refused, exit 2", async () => {
    const run = await startJob(["--keep-monitor"], () => {})
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("Invalid --keep-monitor: expected --monitor as well")
  }, 120_000)

  it("a port another program holds: exit 1, the error suggests --monitor 0, the summary counts no rows", async () => {
    const holder = http.createServer()
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve))
    try {
      const port = (holder.address() as AddressInfo).port
      const run = await startJob(["--monitor", String(port), "--json"], () => {})
      expect(run.code).toBe(1)
      const why = `Monitor.serve: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE`
      expect(run.stderr).toContain(why)
      expect(run.stderr).toContain("(another program holds that port: --monitor 0 takes a free one)")
      // the database was never opened: its rows are not counted, and the table does not blame it
      expect(run.stdout).toContain("not counted (the run ended early, or the count failed)")
      expect(run.stdout).not.toContain("could not be read")
      const summary = JSON.parse(run.stdout.trim().split("\n").at(-1)!)
      expect(summary).toMatchObject({ dbRows: null, stopped: false })
      expect(summary.error).toContain("--monitor 0 takes a free one")
    } finally {
      holder.close()
    }
  }, 120_000)

  it("a bad port is refused with its name and value, exit 2", async () => {
    const run = await startJob(["--monitor", "70000"], () => {})
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('Invalid --monitor: expected a port from 0 to 65535, received "70000"')
  }, 120_000)
})
