/**
 * The job's command line (`node:util` parseArgs): every flag with its default, and a `FlagError`
 * naming the flag and the value when one is wrong. Invariants: a number is plain decimal digits
 * (no `1e9`, `0x10`, or blanks) within its bounds; a flag given twice is refused, not silently
 * overridden; a negative number reaches its own check (`--records -5`), not parseArgs' "ambiguous";
 * a flag that would do nothing (`--records` with `--partner-url`) is refused.
 */
import { parseArgs } from "node:util"
import { Data } from "effect"
import { shownUrl } from "./shown-url.js"

export type Mode = "fire" | "handles" | "channel" | "all"

export interface Flags {
  /** how the sub-jobs are run: the four steps of the upgrade path (default "fire") */
  readonly mode: Mode
  /** records the in-process partner has (default 2000, at most 1,000,000) */
  readonly records: number
  /** the in-process partner's seed (default 1) */
  readonly seed: number
  /** sub-jobs running at once (default 16; the partner allows 32 open requests) */
  readonly concurrency: number
  /** sub-job starts per second (default 800; the partner allows 1000 requests per second) */
  readonly rate: number
  /** another partner server instead of the in-process one */
  readonly partnerUrl: string | undefined
  /** PGlite's data folder (default .data/etl); ignored when DATABASE_URL is set */
  readonly dataDir: string
  /** empty the table first */
  readonly fresh: boolean
  /** print the summary as one JSON object, the last line on stdout */
  readonly json: boolean
  /** records fetched one at a time after the run, to measure the speed-up (default 20; 0: none) */
  readonly sample: number
  /** serve the live monitor page on 127.0.0.1 at this port (`--monitor` alone: 7070; 0: a free one) */
  readonly monitor: number | undefined
  /** with `--monitor`: after the run (its summary printed), the page stays up with the final state until Ctrl-C */
  readonly keepMonitor: boolean
  /** worker processes that fetch and clean the records through NATS JetStream (default 0: in-process) */
  readonly workers: number
  /** the NATS server of `--workers` (default nats://127.0.0.1:4222) */
  readonly nats: string
  /** `-h`/`--help`: print the usage on stdout and exit 0 (the other flags are then their defaults) */
  readonly help: boolean
}

/**
 * A bad command line: `flag` is the flag's name without dashes ("argument" for a stray positional
 * one, "DATABASE_URL" for the environment variable).
 */
export class FlagError extends Data.TaggedError("FlagError")<{
  readonly flag: string
  readonly value: unknown
  readonly message: string
}> {
  constructor(flag: string, value: unknown, expected: string) {
    super({
      flag,
      value,
      message: `Invalid ${flag === "argument" || flag === "DATABASE_URL" ? flag : `--${flag}`}: expected ${expected}, ${value === undefined ? "no value given" : `received ${JSON.stringify(value)}`}`
    })
  }
}

/** The most records the in-process partner can be asked for (the job keeps a few numbers per record in memory). */
export const maxRecords = 1_000_000

export const usage = `Usage: npx -y pnpm@12.4.2 etl [flags]
  --mode fire|handles|channel|all   how sub-jobs run (default fire)
  --records N        records of the in-process partner (default 2000, at most 1000000)
  --seed N           its seed: the same records and faults every run (default 1)
  --concurrency N    sub-jobs at once (default 16)
  --rate N           sub-job starts: a burst of up to N at once, then N per second (default 800)
  --partner-url URL  sync from another partner server
  --data-dir DIR     PGlite data folder (default .data/etl); DATABASE_URL=postgres://… uses that server
  --fresh            start from an empty table
  --sample N         records re-run one at a time to measure the speed-up (default 20, 0: none)
  --json             last stdout line: the summary as one JSON object
  --monitor [PORT]   serve the live monitor page on http://127.0.0.1:PORT/ (default 7070)
  --keep-monitor     with --monitor: keep the page up after the run, until Ctrl-C (exit 130)
  --workers N        fetch and clean on N worker processes through NATS JetStream (default 0)
  --nats URL         the NATS server of --workers (default nats://127.0.0.1:4222)
  -h, --help         print this and exit`

/** Reads `argv` (without node and the script); throws `FlagError` on a bad or unknown flag. */
export const parseFlags = (argv: ReadonlyArray<string>): Flags => {
  let values: Record<string, string | boolean | undefined>
  let tokens: ReadonlyArray<{ readonly kind: string; readonly name?: string; readonly value?: string | undefined }>
  try {
    ;({ values, tokens } = parseArgs({
      args: withNegatives(withMonitorPort(argv.filter((a) => a !== "--"))),
      tokens: true,
      options: {
        mode: { type: "string", default: "fire" },
        records: { type: "string", default: "2000" },
        seed: { type: "string", default: "1" },
        concurrency: { type: "string", default: "16" },
        rate: { type: "string", default: "800" },
        "partner-url": { type: "string" },
        "data-dir": { type: "string", default: ".data/etl" },
        fresh: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        sample: { type: "string", default: "20" },
        monitor: { type: "string" },
        "keep-monitor": { type: "boolean", default: false },
        workers: { type: "string", default: "0" },
        nats: { type: "string", default: "nats://127.0.0.1:4222" },
        help: { type: "boolean", short: "h", default: false }
      }
    }))
  } catch (e) {
    // parseArgs' own errors: an unknown flag, a flag without its value or with one it takes none of, a positional argument
    const message = (e as Error).message
    const [, dashes, flag] = /'(--?)([\w-]+)/.exec(message) ?? []
    if (flag === undefined) throw new FlagError("argument", argv.join(" "), "flags only (--name value)")
    // an unknown short flag (`-x`): shown as given, not as `--x`
    if (dashes === "-") throw new FlagError("argument", `-${flag}`, "a flag this job knows (-h lists them)")
    if (/argument missing|ambiguous/.test(message)) throw new FlagError(flag, undefined, "a value")
    if (/does not take an argument/.test(message)) {
      const given = argv.find((a) => a.startsWith(`--${flag}=`))
      throw new FlagError(flag, given?.slice(flag.length + 3), "no value (it is a switch)")
    }
    throw new FlagError(flag, `--${flag}`, "a flag this job knows")
  }
  // help wins over the rest: the usage, whatever else was given
  if (values.help === true) return { ...parseFlags([]), help: true }
  // a flag given twice: parseArgs keeps the last one; which one the user meant is not ours to guess
  const seen = new Map<string, Array<string | undefined>>()
  for (const t of tokens)
    if (t.kind === "option" && t.name !== undefined) seen.set(t.name, [...(seen.get(t.name) ?? []), t.value])
  for (const [name, given] of seen) {
    if (given.length < 2) continue
    const switched = given.every((g) => g === undefined) // a switch (--fresh --fresh) has no values to show
    throw new FlagError(name, switched ? given.map(() => `--${name}`).join(" ") : given, "the flag once")
  }
  const mode = values.mode as string
  if (mode !== "fire" && mode !== "handles" && mode !== "channel" && mode !== "all")
    throw new FlagError("mode", mode, "fire, handles, channel or all")
  const partnerUrl = values["partner-url"] as string | undefined
  if (partnerUrl !== undefined && !/^https?:\/\/[^/]+/.test(partnerUrl))
    throw new FlagError("partner-url", partnerUrl, "an http:// or https:// URL")
  // --records and --seed shape the in-process partner: with another partner they would do nothing
  for (const own of ["records", "seed"])
    if (partnerUrl !== undefined && seen.has(own))
      throw new FlagError(own, values[own], "no value with --partner-url (it sets the in-process partner's)")
  if (values["keep-monitor"] === true && values.monitor === undefined)
    throw new FlagError("keep-monitor", "--keep-monitor", "--monitor as well (it keeps the monitor's page up)")
  const nats = values.nats as string
  if (!/^(nats|tls|wss?):\/\/[^/]+/.test(nats)) throw new FlagError("nats", nats, "a nats:// URL")
  return {
    mode,
    records: integer("records", values.records, 1, maxRecords),
    seed: integer("seed", values.seed, 0),
    concurrency: integer("concurrency", values.concurrency, 1),
    rate: integer("rate", values.rate, 1),
    partnerUrl: partnerUrl?.replace(/\/+$/, ""),
    dataDir: values["data-dir"] as string,
    fresh: values.fresh === true,
    json: values.json === true,
    sample: integer("sample", values.sample, 0),
    monitor: values.monitor === undefined ? undefined : port("monitor", values.monitor),
    keepMonitor: values["keep-monitor"] === true,
    workers: integer("workers", values.workers, 0),
    nats,
    help: false
  }
}

/**
 * `DATABASE_URL` (the environment's): unset or empty means PGlite; anything else must be a
 * postgres:// or postgresql:// URL, else a `FlagError` showing it with its password hidden.
 */
export const parseDatabaseUrl = (value: string | undefined): string | undefined => {
  if (value === undefined || value === "") return undefined
  let ok = false
  try {
    const u = new URL(value)
    ok =
      (u.protocol === "postgres:" || u.protocol === "postgresql:") && (u.hostname !== "" || u.searchParams.has("host"))
  } catch {
    ok = false
  }
  if (!ok)
    throw new FlagError(
      "DATABASE_URL",
      shownUrl(value),
      "a postgres:// URL such as postgres://user:password@host:5432/db (unset: PGlite)"
    )
  return value
}

/**
 * `text` as an integer from `min` to `max`; else a `FlagError` naming the bounds the value broke
 * (a number too large for any bound says the real one: `--rate 99999999999999999999`).
 */
const integer = (flag: string, text: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  const n = Number(text)
  if (typeof text !== "string" || !/^-?\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    const tooLarge = typeof text === "string" && /^\d+$/.test(text) && !(n <= max)
    throw new FlagError(
      flag,
      text,
      max === Number.MAX_SAFE_INTEGER && !tooLarge ? `an integer >= ${min}` : `an integer from ${min} to ${max}`
    )
  }
  return n
}

/** `--records -5` → `--records=-5`: a negative number is the flag's value (refused by its own check), not a flag. */
const withNegatives = (argv: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1]
    if (/^--[\w-]+$/.test(argv[i]) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${argv[i]}=${next}`)
      i++
    } else out.push(argv[i])
  }
  return out
}

/**
 * `--monitor` takes an optional port: alone (last, or before another flag) it means the default,
 * 7070. A negative number after it is its value (`--monitor -1`, refused as a port), not a flag.
 */
const withMonitorPort = (argv: ReadonlyArray<string>): Array<string> =>
  argv.map((a, i) => {
    const next = argv[i + 1] ?? "-"
    return a === "--monitor" && next.startsWith("-") && !/^-\d/.test(next) ? "--monitor=7070" : a
  })

const port = (flag: string, text: unknown): number => {
  try {
    return integer(flag, text, 0, 65535)
  } catch {
    throw new FlagError(flag, text, "a port from 0 to 65535")
  }
}
