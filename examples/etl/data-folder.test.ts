/**
 * PGlite's data folder is claimed for one run at a time (two runs on one folder wrote the same
 * ids twice into a primary key). Real folders, real processes: a live claim is this test's own
 * process or a child still running; a stale one is left by a process that has exited.
 */
import { spawn, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { claim, claimFile, DataFolderError } from "./data-folder.js"
import { open } from "./db.js"

const tmp = mkdtempSync(join(tmpdir(), "tributary-folder-"))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const refusal = (dataDir: string): DataFolderError => {
  try {
    claim(dataDir)
  } catch (e) {
    if (e instanceof DataFolderError) return e
    throw e
  }
  throw new Error(`claimed ${dataDir}`)
}

describe("the data folder's claim", () => {
  it("makes the folder, holds this process's pid, and is refused to a second claimant while held", () => {
    const dir = join(tmp, "a", "b")
    const release = claim(dir)
    expect(readFileSync(join(dir, claimFile), "utf8")).toBe(String(process.pid))
    expect(refusal(dir).message).toBe(
      `${dir} is in use by another run of the job (pid ${process.pid}); wait for it to end, or give another --data-dir`
    )
    release()
    expect(existsSync(join(dir, claimFile))).toBe(false)
    claim(dir)() // free again
  })

  it("a claim held by another live process is refused; once that process is gone, it is taken over", async () => {
    const dir = join(tmp, "other")
    mkdirSync(dir)
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" })
    const gone = new Promise((resolve) => child.once("exit", resolve))
    writeFileSync(join(dir, claimFile), String(child.pid))
    expect(refusal(dir).message).toContain(`(pid ${child.pid})`)
    child.kill("SIGKILL")
    await gone
    const release = claim(dir)
    expect(readFileSync(join(dir, claimFile), "utf8")).toBe(String(process.pid))
    release()
  })

  it("a claim file left empty or unreadable by a crash is stale", () => {
    const dir = join(tmp, "empty-claim")
    mkdirSync(dir)
    writeFileSync(join(dir, claimFile), "")
    claim(dir)()
    // and a pid no process has (a process that ran and exited)
    const done = spawnSync(process.execPath, ["-e", ""])
    writeFileSync(join(dir, claimFile), String(done.pid))
    claim(dir)()
  })

  it("a folder that holds other files and no PGlite database is refused, left as it was", () => {
    const dir = join(tmp, "mine")
    mkdirSync(dir)
    writeFileSync(join(dir, "notes.txt"), "mine")
    expect(refusal(dir).message).toBe(
      `${dir} is not empty and holds no PGlite database (1 other files): give --data-dir a new or empty folder`
    )
    expect(existsSync(join(dir, claimFile))).toBe(false)
    expect(existsSync(join(dir, "PG_VERSION"))).toBe(false)
  })

  it("a folder that cannot be made fails at once (Node's recursive mkdir spun for ever on /proc/x)", (ctx) => {
    if (!existsSync("/proc/self")) return ctx.skip("no /proc on this system")
    expect(() => claim("/proc/tributary-etl/data")).toThrow(/ENOENT/)
  })

  it("a file where the folder should be is refused, naming it (mkdir said EEXIST)", () => {
    const file = join(tmp, "a-file")
    writeFileSync(file, "mine")
    expect(refusal(file).message).toBe(`${file} is a file, not a folder: give --data-dir a folder`)
    expect(readFileSync(file, "utf8")).toBe("mine")
  })

  it("the job's database layer takes the claim while open and gives it back when closed", async () => {
    const dir = join(tmp, "pglite")
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          yield* open({ dataDir: dir })
          expect(readFileSync(join(dir, claimFile), "utf8")).toBe(String(process.pid))
          const second = yield* Effect.flip(Effect.scoped(open({ dataDir: dir })))
          expect(second.message).toBe(
            `open PGlite in ${dir}: ${dir} is in use by another run of the job (pid ${process.pid}); wait for it to end, or give another --data-dir`
          )
        })
      )
    )
    expect(existsSync(join(dir, claimFile))).toBe(false)
    // a database folder (PG_VERSION) opens again
    await Effect.runPromise(Effect.scoped(open({ dataDir: dir })))
  }, 60_000)
})
