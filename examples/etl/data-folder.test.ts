/**
 * PGlite's data folder is claimed for one run at a time (two runs on one folder wrote the same
 * ids twice into a primary key). Real folders, real processes: a live claim is this test's own
 * process or a child still running; a stale one is left by a process that has exited.
 */
import { spawn, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { claim, claimFile, creatingFile, DataFolderError, holdsDatabase } from "./data-folder.js"
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
    const { release } = claim(dir)
    expect(readFileSync(join(dir, claimFile), "utf8")).toBe(String(process.pid))
    expect(refusal(dir).message).toBe(
      `${dir} is in use by another run of the job (pid ${process.pid}); wait for it to end, or give another --data-dir`
    )
    release()
    expect(existsSync(join(dir, claimFile))).toBe(false)
    claim(dir).release() // free again
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
    const { release } = claim(dir)
    expect(readFileSync(join(dir, claimFile), "utf8")).toBe(String(process.pid))
    release()
  })

  it("a claim file left empty or unreadable by a crash is stale", () => {
    const dir = join(tmp, "empty-claim")
    mkdirSync(dir)
    writeFileSync(join(dir, claimFile), "")
    claim(dir).release()
    // and a pid no process has (a process that ran and exited)
    const done = spawnSync(process.execPath, ["-e", ""])
    writeFileSync(join(dir, claimFile), String(done.pid))
    claim(dir).release()
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

  it("a folder whose database a killed run was creating (its mark left) is emptied and created again, by its claimant only", () => {
    const dir = join(tmp, "half-made")
    mkdirSync(join(dir, "base"), { recursive: true })
    writeFileSync(join(dir, "PG_VERSION"), "17")
    writeFileSync(join(dir, "base", "1"), "half-written")
    writeFileSync(join(dir, creatingFile), "4242")
    expect(holdsDatabase(dir)).toBe(false)
    // while another run holds it, nothing is touched
    writeFileSync(join(dir, claimFile), String(process.pid))
    expect(refusal(dir).message).toContain("is in use by another run")
    expect(existsSync(join(dir, "base", "1"))).toBe(true)
    rmSync(join(dir, claimFile))
    const folder = claim(dir)
    expect(folder).toMatchObject({ creating: true, recreated: true })
    expect(readdirSync(dir).sort()).toEqual([creatingFile, claimFile])
    folder.created()
    expect(existsSync(join(dir, creatingFile))).toBe(false)
    folder.release()
    // a folder with a whole database is opened as it is; a new one is marked while it is created
    writeFileSync(join(dir, "PG_VERSION"), "17")
    expect(holdsDatabase(dir)).toBe(true)
    const again = claim(dir)
    expect(again).toMatchObject({ creating: false, recreated: false })
    expect(existsSync(join(dir, creatingFile))).toBe(false)
    again.release()
    const fresh = claim(join(tmp, "fresh"))
    expect(fresh).toMatchObject({ creating: true, recreated: false })
    expect(existsSync(join(tmp, "fresh", creatingFile))).toBe(true)
    fresh.release()
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
