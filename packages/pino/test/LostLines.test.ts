/**
 * `LostLines` alone, with a report sink in place of stderr: one report when a burst of lost lines
 * starts, one when writing works again saying how many lines that burst lost.
 */
import { describe, expect, it } from "vitest"
import { LostLines } from "../src/index.js"

/** A `LostLines` whose reports are collected instead of written to stderr. */
const collecting = () => {
  const reports: Array<string> = []
  const lost = new LostLines("test", (line) => reports.push(line))
  return { lost, reports }
}

describe("LostLines", () => {
  it('each "written again" report counts the lines of its own burst only; total counts them all', () => {
    const { lost, reports } = collecting()
    lost.failed(new Error("EPIPE"))
    lost.failed(new Error("EPIPE"))
    lost.succeeded()
    lost.succeeded() // no burst going on: no report
    lost.failed(new Error("ENOSPC"))
    lost.succeeded()
    expect(reports).toEqual([
      "test: a log line could not be written (Error: EPIPE); lines are dropped until writing works again",
      "test: log lines are written again; 2 lines were lost",
      "test: a log line could not be written (Error: ENOSPC); lines are dropped until writing works again",
      "test: log lines are written again; 1 line was lost"
    ])
    expect(lost.total).toBe(3)
  })
})
