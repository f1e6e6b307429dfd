/**
 * The summary's two views (the table a person reads, the `--json` line a script reads) show the
 * same figures: a speed-up is rounded once, so 4.7499 is not "4.7×" in the table and 4.75 in the JSON.
 */
import { describe, expect, it } from "vitest"
import { refusedJson, summaryJson, summaryTable } from "./report.js"
import { makeTally, summarize } from "./tally.js"

const about = (speedup: number | null) => ({
  mode: "fire",
  database: "PGlite",
  partner: undefined,
  dbRows: 0,
  durationMs: 1000,
  speedup,
  stopped: false,
  error: null
})

describe("summary", () => {
  it.each([4.7499, 4.75, 4.7449, 12.049999, 0.951])(
    "speed-up %d: the table's figure is the JSON's, to one decimal",
    (raw) => {
      const s = summarize(makeTally(), about(raw))
      const json = JSON.parse(summaryJson(s)) as { speedup: number }
      expect(json.speedup).toBe(Math.round(raw * 100) / 100)
      const line = summaryTable(s)
        .split("\n")
        .find((l) => l.includes("speed-up over one at a time"))
      expect(line).toContain(`${json.speedup.toFixed(1)}×`)
    }
  )

  it("a speed-up not measured is null in the JSON and said so in the table", () => {
    const s = summarize(makeTally(), about(null))
    expect(JSON.parse(summaryJson(s)).speedup).toBeNull()
    expect(summaryTable(s)).toContain("not measured")
  })

  it.each([80, 60, 200])("on a terminal %d columns wide, no line of the table is wider", (columns) => {
    const s = summarize(makeTally(), {
      ...about(4.2),
      error: "the partner at http://127.0.0.1:8080: GET /records?limit=100: timeout"
    })
    const lines = summaryTable(s, columns).split("\n")
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(columns)
    expect(lines.join("\n")).toContain("the run failed")
    // the value wraps inside its cell: every word is still there
    expect(lines.join(" ")).toContain("timeout")
  })

  it("a run refused before it started (exit 2): the --json line has every key, nothing counted, the refusal as its error", () => {
    const json = JSON.parse(refusedJson("Invalid --records: expected a value, no value given", null))
    const full = JSON.parse(summaryJson(summarize(makeTally(), about(null))))
    expect(Object.keys(json)).toEqual(Object.keys(full))
    expect(json).toMatchObject({
      records: 0,
      saved: 0,
      failed: { partner: 0, clean: 0, db: 0 },
      dbRows: null,
      speedup: null,
      stopped: false,
      error: "Invalid --records: expected a value, no value given",
      mode: null
    })
    expect(JSON.parse(refusedJson("Invalid DATABASE_URL: …", "all")).mode).toBe("all")
  })
})
