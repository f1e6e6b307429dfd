/**
 * What counts as a terminal: a TTY with room for the live line. A pseudo-terminal that reports 0×0
 * gets plain lines (the live line fitted to 0 rows swallowed every log line above it).
 */
import { describe, expect, it } from "vitest"
import { isTerminal, table } from "./terminal.js"

describe("terminal", () => {
  it("a TTY with at least one row and one column is one; 0 rows or 0 columns, or no TTY, is not", () => {
    expect(isTerminal({ isTTY: true, rows: 40, columns: 200 })).toBe(true)
    expect(isTerminal({ isTTY: true, rows: 0, columns: 0 })).toBe(false)
    expect(isTerminal({ isTTY: true, rows: 0, columns: 80 })).toBe(false)
    expect(isTerminal({ isTTY: true, rows: 24, columns: 0 })).toBe(false)
    expect(isTerminal({ isTTY: true })).toBe(false)
    expect(isTerminal({ isTTY: false, rows: 24, columns: 80 })).toBe(false)
    expect(isTerminal({})).toBe(false)
  })

  it("the table is 105 characters wide when no width is given, as narrow as the width given (at least 40)", () => {
    const width = (columns: number | undefined) => table([["key", "value"]], columns).split("\n")[0].length
    expect(width(undefined)).toBe(105)
    expect(width(80)).toBe(80)
    expect(width(10)).toBe(40)
  })
})
