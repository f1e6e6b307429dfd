/**
 * The README's benchmark tables cite measured figures: each one is in the results file its section
 * links to (bench/*.md), as written there or rounded to the README's precision (a time in seconds
 * may be the file's milliseconds, and the reverse).
 *
 * Invariants:
 * - the section read is "## Benchmarks" up to the next "## " heading; each "### " subsection's
 *   results file is the first bench/*.md it links, and its table rows are checked against it;
 * - a figure is a number with a decimal point or of two digits or more (thousands separators
 *   allowed); a one-digit count (5 runs, 3 workers) is not checked;
 * - a failure names the README line, the figure and the file.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { root } from "./child.js"

const plain = (text: string) => text.replace(/(\d),(\d{3})/g, "$1$2")

const numbersIn = (file: string): Array<number> =>
  [...plain(readFileSync(join(root, file), "utf8")).matchAll(/\d+(?:\.\d+)?/g)].map((m) => Number(m[0]))

/** `figure` (as written, with its decimals) is `measured` rounded to as many decimals. */
const roundsTo = (figure: string, measured: number): boolean => {
  const decimals = (figure.split(".")[1] ?? "").length
  return Math.abs(measured - Number(figure)) <= 0.5 * 10 ** -decimals + 1e-9
}

/** Each table figure of the README's benchmark section with its line and its results file. */
const tableFigures = (readme: string) => {
  const lines = readme.split("\n")
  const start = lines.indexOf("## Benchmarks")
  const end = lines.findIndex((l, i) => i > start && l.startsWith("## "))
  const figures: Array<{ line: number; figure: string; file: string }> = []
  let file: string | undefined
  for (let i = start; i < end; i++) {
    if (lines[i].startsWith("### ")) file = undefined
    file ??= /\]\((bench\/[\w-]+\.md)\)/.exec(lines[i])?.[1]
    if (!lines[i].startsWith("|") || file === undefined) continue
    for (const m of plain(lines[i]).matchAll(/(?<![\w.])(\d+\.\d+|\d{2,})(?![\w.])/g))
      figures.push({ line: i + 1, figure: m[1], file })
  }
  return figures
}

describe("benchmark figures in the README", () => {
  const figures = tableFigures(readFileSync(join(root, "README.md"), "utf8"))

  it("reads the tables of every benchmark section", () => {
    expect(new Set(figures.map((f) => f.file))).toEqual(
      new Set(["bench/RESULTS.md", "bench/JOBS-RESULTS.md", "bench/NATS-RESULTS.md", "bench/ETL-RESULTS.md"])
    )
    expect(figures.length).toBeGreaterThan(50)
  })

  it("every figure of a table is in the results file its section links", () => {
    const byFile = new Map<string, Array<number>>()
    const missing = figures.filter(({ figure, file }) => {
      const measured = byFile.get(file) ?? numbersIn(file)
      byFile.set(file, measured)
      return !measured.some((y) => roundsTo(figure, y) || roundsTo(figure, y / 1000) || roundsTo(figure, y * 1000))
    })
    expect(missing.map(({ line, figure, file }) => `README.md:${line}: ${figure} is not in ${file}`)).toEqual([])
  })

  it("a figure rounds to its measurement, no further", () => {
    expect(roundsTo("22.0", 21.95)).toBe(true)
    expect(roundsTo("560", 559.6)).toBe(true)
    expect(roundsTo("5.88", 5.87)).toBe(false)
    expect(roundsTo("3.76", 3757 / 1000)).toBe(true)
  })
})
