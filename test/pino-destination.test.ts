/**
 * Whole-process tests of a pino file destination that cannot be opened (a folder that does not
 * exist, a path that is a directory): `PinoLogger.layer` and `Supervisor.runMain` refuse it with a
 * `PinoLoggerConfigError` naming the file system's error, and the process ends on its own — no
 * unhandled 'error' event, no throw from pino's exit hook ("sonic boom is not ready yet").
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { byMsg, outcomes, run, start } from "./child.js"

const folder = mkdtempSync(join(tmpdir(), "tributary-unopenable-"))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

const cases = [
  { what: "a file in a missing folder", path: join(folder, "missing", "out.log"), code: "ENOENT" },
  { what: "a directory", path: folder, code: "EISDIR" }
]

describe("a pino destination whose file cannot be opened", () => {
  for (const { what, path, code } of cases) {
    it(`${what}: PinoLogger.layer's build dies with PinoLoggerConfigError naming ${code}; the process exits 0 on its own`, async () => {
      const { code: exitCode, stderr, lines } = await run("test/fixtures/unopenable-log.ts", [path, "layer"])
      expect(stderr).toBe("")
      expect(exitCode).toBe(0)
      expect(lines.filter(byMsg("ended"))).toEqual([
        expect.objectContaining({
          success: false,
          tag: "PinoLoggerConfigError",
          reason: "destination cannot be opened"
        })
      ])
      expect(lines[0].message).toContain(code)
      expect(lines[0].message).toContain(path)
    })

    it(`${what}: runMain exits 1 with the PinoLoggerConfigError on stderr, running nothing`, async () => {
      const { code: exitCode, stderr, lines } = await run("test/fixtures/unopenable-log.ts", [path, "runMain"])
      expect(exitCode).toBe(1)
      expect(stderr).toContain("PinoLoggerConfigError")
      expect(stderr).toContain(code)
      expect(stderr).not.toContain("not ready")
      expect(stderr).not.toContain("Unhandled 'error' event")
      expect(outcomes(lines)).toEqual([])
    })

    it(`${what}, through a transport: runMain ends on its own (it waited for ever for the dead worker's flush), the failure on stderr`, async () => {
      const child = start("test/fixtures/unopenable-log.ts", [path, "transport"])
      let hung = false
      const timer = setTimeout(() => {
        hung = true
        child.signal("SIGKILL")
      }, 30_000)
      const { code: exitCode, stderr } = await child.exited
      clearTimeout(timer)
      expect(hung).toBe(false)
      expect(exitCode).toBe(0)
      expect(stderr).toContain("the pino transport failed")
      expect(stderr).toContain(code)
    })
  }
})
