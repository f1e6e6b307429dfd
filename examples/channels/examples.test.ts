/**
 * Runs each channel example as a user would (a separate Node process through tsx) and checks what
 * it prints.
 */
import { execFile } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, "..", "..")

const runExample = (file: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--conditions=tributary:source", "--import", "tsx", join(here, file)],
      { cwd: root, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? (error.code as number | null) : 0, stdout, stderr })
    )
  })

describe("examples/channels", () => {
  it("demo.ts: every unique url fetched once, workers stopped by the promise channel", async () => {
    const { code, stdout } = await runExample("demo.ts")
    expect(code).toBe(0)
    const fetched = stdout.split("\n").filter((line) => line.includes(" fetched "))
    expect(fetched).toHaveLength(9)
    for (const site of ["one", "two", "three"]) {
      for (const page of ["a", "b", "c"]) {
        expect(fetched.filter((line) => line.endsWith(`https://${site}.example/${page}`))).toHaveLength(1)
      }
    }
    expect(stdout).toContain("received 9 results (duplicates removed by the xform); workers stopped")
  })

  it("producer-consumer.ts: all orders drained after close", async () => {
    const { code, stdout } = await runExample("producer-consumer.ts")
    expect(code).toBe(0)
    expect(stdout).toContain("processed 10 orders, revenue 550")
  })

  it("select-timeout.ts: the faster replica wins, the deadline beats the slow one, the facade agrees", async () => {
    const { code, stdout } = await runExample("select-timeout.ts")
    expect(code).toBe(0)
    expect(stdout).toContain("effect: west answered")
    expect(stdout).toContain("effect: deadline passed")
    expect(stdout).toContain("promise: west answered")
  })

  it("pipeline.ts: results in input order, the failure replaced, never more than 3 fetches at once", async () => {
    const { code, stdout } = await runExample("pipeline.ts")
    expect(code).toBe(0)
    const lines = stdout.split("\n").filter((line) => line.includes("https://example.com/"))
    expect(lines.map((line) => line.slice(line.indexOf("https://")))).toEqual([
      "https://example.com/a-long-article (3400 bytes)",
      "https://example.com/b (2100 bytes)",
      "https://example.com/broken failed: GET https://example.com/broken: 500",
      "https://example.com/c-medium (2800 bytes)"
    ])
    expect(stdout).toContain("at most 3 fetches ran at once")
  })

  it("pubsub.ts: each topic's two subscribers see exactly its events, the metrics tap sees all", async () => {
    const { code, stdout } = await runExample("pubsub.ts")
    expect(code).toBe(0)
    for (const name of ["db", "audit"]) {
      expect(stdout).toContain(`${name}/created: created #1, created #2`)
      expect(stdout).toContain(`${name}/paid: paid #1, paid #2`)
      expect(stdout).toContain(`${name}/shipped: shipped #1`)
    }
    expect(stdout).toContain("metrics saw 5 events")
  })
})
