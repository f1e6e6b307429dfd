/**
 * Whole-process tests of a pino file destination on a full disk (`/dev/full`: every write fails
 * with ENOSPC). sonic-boom's synchronous flush retries such a write every 100 ms for ever, and
 * pino calls it from its exit hook: the process never ended. The destination's 'error' event,
 * unheard, ended the process instead. With `PinoLogger.layer` (and so `runMain`), the process
 * ends on its own, says on stderr that lines were lost, and keeps its exit code.
 */
import { existsSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { byMsg, start } from "./child.js"

const hasDevFull = existsSync("/dev/full")
if (!hasDevFull) console.log("skipped: /dev/full does not exist on this machine (the full-disk tests need it)")

/** Runs the fixture; a process still alive after `limitMillis` is killed and reported as hung. */
const runFor = async (args: ReadonlyArray<string>, limitMillis = 30_000) => {
  const child = start("test/fixtures/full-disk-log.ts", args)
  let hung = false
  const timer = setTimeout(() => {
    hung = true
    child.signal("SIGKILL")
  }, limitMillis)
  const { code, stderr } = await child.exited
  clearTimeout(timer)
  return { code, stderr, hung }
}

describe.skipIf(!hasDevFull)("a pino file destination on a full disk", () => {
  for (const sync of [false, true]) {
    const kind = sync ? "sync" : "async"
    it(`PinoLogger.layer, ${kind}: the program ends, the process exits 0 on its own and reports the loss on stderr`, async () => {
      const { code, stderr, hung } = await runFor(["layer", ...(sync ? ["sync"] : [])])
      expect(hung).toBe(false)
      expect(code).toBe(0)
      expect(stderr).toContain('{"ended":"done"}')
      expect(stderr).toContain("the log destination failed to write (ENOSPC")
      expect(stderr).toContain("could not be written at the end")
      expect(stderr).not.toContain("Unhandled 'error' event")
    })

    it(`runMain, ${kind}: the program and its job end, the process exits 0 on its own`, async () => {
      const { code, stderr, hung } = await runFor(["runMain", ...(sync ? ["sync"] : [])])
      expect(hung).toBe(false)
      expect(code).toBe(0)
      expect(stderr).toContain("the log destination failed to write (ENOSPC")
      expect(stderr).toContain("could not be written at the end")
    })
  }

  it("runMain's hard deadline still ends the process: SIGTERM with a job that ignores interruption exits 1", async () => {
    const child = start("test/fixtures/full-disk-log.ts", ["stubborn"])
    let hung = false
    const timer = setTimeout(() => {
      hung = true
      child.signal("SIGKILL")
    }, 30_000)
    await child.waitFor(byMsg("ready"))
    child.signal("SIGTERM")
    const { code } = await child.exited
    clearTimeout(timer)
    expect(hung).toBe(false)
    expect(code).toBe(1)
  })
})
