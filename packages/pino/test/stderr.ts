/**
 * Test helper: what the code under test writes on stderr, collected instead of written.
 */
import { vi } from "vitest"

/** Collects what is written on stderr, instead of writing it (undone by `vi.restoreAllMocks()`). */
export const stderrLines = (): Array<string> => {
  const seen: Array<string> = []
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: any) => {
    seen.push(String(chunk))
    return true
  })
  return seen
}
