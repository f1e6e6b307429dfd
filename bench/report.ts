/**
 * What the two benchmark drivers (run.ts: W1–W4, jobs.ts: W5–W6) share: option parsing, building
 * the packages under test, spawning the children and running them interleaved, medians, the
 * markdown table helpers and writing the report.
 */
import { execFile, execFileSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

/** This folder (bench/). */
export const benchDir = dirname(fileURLToPath(import.meta.url))

/** The repository root. */
export const root = resolve(benchDir, "..")

/** Identical for every child: only the script arguments differ between runs. */
// without the `tributary:source` condition `@tributary/channel` (and @tributary/jobs, which imports
// it) resolve to their compiled dist/, as users get them (see their package.json)
const childNodeFlags = ["--expose-gc", "--import", import.meta.resolve("tsx")]

/** The children's node flags as the report prints them (tsx by name, not by its resolved path). */
export const childFlagsLabel = childNodeFlags.slice(0, -1).concat("tsx").join(" ")

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

/** The `version` of the package.json at `path` (relative to the repository root). */
export const version = (path: string): string => {
  try {
    return (JSON.parse(readFileSync(join(root, path), "utf8")) as { version: string }).version
  } catch {
    return "not found"
  }
}

/** How the driver at `scriptUrl` (its `import.meta.url`) was invoked, for the report's header. */
export const commandLine = (scriptUrl: string): string =>
  ["tsx", relative(root, fileURLToPath(scriptUrl)), ...process.argv.slice(2)].join(" ")

/** One markdown table row. */
export const row = (cells: ReadonlyArray<string>) => `| ${cells.join(" | ")} |`

/** A markdown table's alignment row. */
export const rule = (aligns: ReadonlyArray<"l" | "r">) => row(aligns.map((a) => (a === "r" ? "---:" : "---")))

/** The machine part of a report's environment table (header included): date, CPU, memory, OS, load, Node. */
export const machineRows = (started: Date, loadAtStart: ReadonlyArray<number>): Array<string> => {
  const cpus = os.cpus()
  return [
    row(["", ""]),
    rule(["l", "l"]),
    row(["Date", started.toISOString().slice(0, 10)]),
    row(["CPU", `${cpus[0]?.model ?? "unknown"} (${cpus.length} cores)`]),
    row(["Memory", `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`]),
    row(["OS", `${os.type()} ${os.release()} ${os.arch()}`]),
    row(["Load average at start", loadAtStart.map((l) => l.toFixed(2)).join(", ")]),
    row(["Node", `${process.version}, child flags \`${childFlagsLabel}\``])
  ]
}

/**
 * Compiles `packages/<name>` into its dist/ for each name: children run without the
 * `tributary:source` condition, so the packages resolve to their compiled dist/ (as users get them).
 */
export const buildPackages = (names: ReadonlyArray<string>): void => {
  for (const name of names) {
    execFileSync(
      process.execPath,
      [join(root, "node_modules/typescript/bin/tsc"), "-p", `packages/${name}/tsconfig.build.json`],
      { cwd: root, stdio: "inherit" }
    )
  }
}

/** What a child that failed reports (or what the driver reports for it when it printed nothing usable). */
export interface Failure {
  readonly impl: string
  readonly workload: string
  readonly error: string
}

/**
 * Runs `bench/<script>` once in a fresh Node process with the child flags and `args`, and resolves
 * to the JSON object on the last line of its stdout (a sample, or the child's own failure report);
 * to a `Failure` for `impl` and `workload` if there is none (crash, or killed after `timeoutMs`).
 */
export const runChild = <S>(
  script: string,
  args: ReadonlyArray<string>,
  timeoutMs: number,
  impl: string,
  workload: string
): Promise<S | Failure> =>
  new Promise((done) => {
    execFile(
      process.execPath,
      [...childNodeFlags, join(benchDir, script), ...args],
      { cwd: root, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const line = stdout.trim().split("\n").at(-1) ?? ""
        try {
          done(JSON.parse(line) as S | Failure)
        } catch {
          const reason = error?.killed ? `killed after ${timeoutMs / 1000}s` : (error?.message ?? "no output")
          done({ impl, workload, error: `${reason}\n${stderr.trim()}`.trim() })
        }
      }
    )
  })

const isFailure = <S extends object>(outcome: S | Failure): outcome is Failure => "error" in outcome

/** The samples of an interleaved run by cell key (in the order first seen), and each failed cell's error. */
export interface Results<S> {
  readonly samples: Map<string, Array<S>>
  readonly failures: Map<string, string>
}

/**
 * Runs every cell `reps` times, one child each: repetition by repetition, each group's cells in turn
 * with the first one rotated per repetition, so machine noise hits all peers alike. A cell that
 * fails once is not run again. Progress goes to stderr as `[rep/reps] <label>: <progress(sample)>`.
 */
export const runInterleaved = async <C, S extends object>(options: {
  readonly reps: number
  readonly groups: ReadonlyArray<ReadonlyArray<C>>
  readonly key: (cell: C) => string
  readonly label: (cell: C) => string
  readonly run: (cell: C) => Promise<S | Failure>
  readonly progress: (sample: S) => string
}): Promise<Results<S>> => {
  const { reps, groups, key, label, run, progress } = options
  const samples = new Map<string, Array<S>>()
  const failures = new Map<string, string>()
  for (let rep = 0; rep < reps; rep++) {
    for (const group of groups) {
      const order = group.map((_, i) => group[(i + rep) % group.length] as C)
      for (const cell of order) {
        const k = key(cell)
        if (failures.has(k)) continue
        const outcome = await run(cell)
        const tag = `[${rep + 1}/${reps}] ${label(cell)}`
        if (isFailure(outcome)) {
          failures.set(k, outcome.error)
          console.error(`${tag}: FAILED (not retried)\n${outcome.error}`)
        } else {
          samples.set(k, [...(samples.get(k) ?? []), outcome])
          console.error(`${tag}: ${progress(outcome)}`)
        }
      }
    }
  }
  return { samples, failures }
}

/**
 * The line that starts the hand-written end of a report (notes on other runs, what the figures
 * say): a driver rewriting the report keeps everything from it on.
 */
const KeptMarker = "<!-- Written by hand from here on: the bench drivers keep this part when they rewrite the file. -->"

/** The hand-written end of the report at `path` (from `KeptMarker` on), with a blank line before it; "" if none. */
const keptPart = (path: string): string => {
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch {
    return ""
  }
  const at = text.indexOf(KeptMarker)
  return at === -1 ? "" : `\n${text.slice(at)}`
}

/**
 * Ends a driver: appends the failures section (if any) to `lines`, writes them as the markdown
 * report `out` (relative to the repository root; the hand-written part of the file it replaces, from
 * `KeptMarker` on, is kept at its end) and `raw` plus every sample and failure as
 * bench/out/<rawPrefix>-<timestamp>.json, prints the report to stdout, and sets the exit code
 * (1 if any cell failed).
 */
export const writeReport = <S>(options: {
  readonly lines: Array<string>
  readonly results: Results<S>
  readonly out: string
  readonly rawPrefix: string
  readonly started: Date
  readonly raw: object
}): void => {
  const { lines, results, out, rawPrefix, started, raw } = options
  const { samples, failures } = results
  if (failures.size > 0) {
    lines.push("", "## Failures", "")
    for (const [k, error] of failures) lines.push(`- ${k}: ${String(error).split("\n")[0]}`)
  }

  const outPath = resolve(root, out)
  mkdirSync(dirname(outPath), { recursive: true })
  writeFileSync(outPath, `${lines.join("\n")}\n${keptPart(outPath)}`)

  const rawDir = join(benchDir, "out")
  mkdirSync(rawDir, { recursive: true })
  const rawPath = join(rawDir, `${rawPrefix}-${started.toISOString().replace(/[:.]/g, "-")}.json`)
  writeFileSync(
    rawPath,
    `${JSON.stringify({ ...raw, samples: [...samples.values()].flat(), failures: Object.fromEntries(failures) }, null, 2)}\n`
  )

  console.error(`\nwrote ${relative(root, outPath)} and ${relative(root, rawPath)}`)
  console.log(lines.join("\n"))
  process.exitCode = failures.size > 0 ? 1 : 0
}
