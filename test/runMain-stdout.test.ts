/**
 * The default logger of `Supervisor.runMain` and of the Promise API's `supervisor` when the reader
 * of stdout stops reading (a full pipe): the process still handles its signals and exits with its
 * code; the lines it could not write are dropped (not held in memory) and counted on stderr. The
 * child's stdout is a pipe this test never reads.
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import { expect, it, onTestFinished } from "vitest"
import { root } from "./child.js"

/**
 * Starts the fixture `file` with a stdout it never reads (once the pipe and the stream's buffer
 * are full, its writes get EAGAIN); a child still running when the test ends is killed.
 */
const startUnread = (file: string) => {
  const child = spawn(process.execPath, ["--conditions=tributary:source", "--import", "tsx", join(root, file)], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"]
  })
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL") // a frozen child is not left behind
  })
  child.stdout.pause()
  return child
}

it("a stdout nobody reads costs lines, not the process: SIGTERM still exits 143, the loss reported on stderr", async () => {
  const child = startUnread("test/fixtures/stalled-stdout.ts")
  let stderr = ""
  child.stderr.setEncoding("utf8")
  const ready = new Promise<void>((resolve) =>
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk
      if (stderr.includes("ready\n")) resolve()
    })
  )
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
  await ready
  child.kill("SIGTERM")
  const code = await exited
  expect(code).toBe(143)
  expect(stderr).toMatch(/runMain|tributary/)
  expect(stderr).toContain("could not be written (Error: EAGAIN")
}, 30_000)

it("the Promise supervisor's default logger drops what a stdout nobody reads does not take, instead of holding it: drain and shutdown end, exit 0", async () => {
  const child = startUnread("test/fixtures/promise-stalled-stdout.ts")
  let stderr = ""
  child.stderr.setEncoding("utf8")
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk
  })
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)))
  expect(code).toBe(0)
  expect(stderr).toContain("drained\n")
  expect(stderr).toContain("done\n")
  // refused at the write (the pipe was full), not held for a flush at the end
  expect(stderr).toContain("could not be written (Error: EAGAIN")
}, 30_000)
