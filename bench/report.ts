/**
 * What the two benchmark drivers (run.ts: W1–W4, jobs.ts: W5–W6) share: option parsing, building
 * the packages under test, medians and the markdown table helpers.
 */
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import * as os from "node:os"
import { join } from "node:path"

/** `text` as a number > 0, or an error naming the option. */
export const positive = (name: string, text: string): number => {
  const value = Number(text)
  if (!(value > 0)) throw new Error(`--${name} must be a positive number, got "${text}"`)
  return value
}

/** The median of `xs` (the mean of the two middle values for an even count). */
export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** The `version` of the package.json at `path` (relative to `root`). */
export const versionAt = (root: string, path: string): string => {
  try {
    return (JSON.parse(readFileSync(join(root, path), "utf8")) as { version: string }).version
  } catch {
    return "not found"
  }
}

/** One markdown table row. */
export const row = (cells: ReadonlyArray<string>) => `| ${cells.join(" | ")} |`

/** A markdown table's alignment row. */
export const rule = (aligns: ReadonlyArray<"l" | "r">) => row(aligns.map((a) => (a === "r" ? "---:" : "---")))

/** The machine part of a report's environment table (header included): date, CPU, memory, OS, load, Node. */
export const machineRows = (started: Date, loadAtStart: ReadonlyArray<number>, childFlags: string): Array<string> => {
  const cpus = os.cpus()
  return [
    row(["", ""]),
    rule(["l", "l"]),
    row(["Date", started.toISOString().slice(0, 10)]),
    row(["CPU", `${cpus[0]?.model ?? "unknown"} (${cpus.length} cores)`]),
    row(["Memory", `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`]),
    row(["OS", `${os.type()} ${os.release()} ${os.arch()}`]),
    row(["Load average at start", loadAtStart.map((l) => l.toFixed(2)).join(", ")]),
    row(["Node", `${process.version}, child flags \`${childFlags}\``])
  ]
}

/**
 * Compiles `packages/<name>` into its dist/ for each name: children run with the `tributary:dist`
 * condition, under which the packages resolve to their compiled dist/ (as users get them).
 */
export const buildPackages = (root: string, names: ReadonlyArray<string>): void => {
  for (const name of names) {
    execFileSync(
      process.execPath,
      [join(root, "node_modules/typescript/bin/tsc"), "-p", `packages/${name}/tsconfig.build.json`],
      { cwd: root, stdio: "inherit" }
    )
  }
}
