/**
 * What the monitor sends: a `Snapshot`/`Progress` turned into JSON-safe data. Invariants:
 * - a key matched by a secret path is absent from every failure's `annotations` and `payload` (a
 *   path under pino's field name `["job.payload"]` applies to the payload itself)
 *   and from every listed job's `progress` (a removed key is never replaced by a placeholder: it
 *   is simply not sent);
 * - a failure's `exit` becomes its `message` and `stack` (text), never the cause object; a failure
 *   or defect that is not an `Error` (rendered as JSON) and the `cause` chain of an `Error` lose
 *   the secret paths first (pino's `err.`-prefixed paths apply to the error itself);
 * - `Infinity` (an unbounded limit) is sent as `null`, a bigint as its decimal text, a cycle as
 *   `"[Circular]"`, a field whose getter, `toJSON` or Proxy trap throws as `"[unreadable]"`, and
 *   when `JSON.stringify` cannot make the text (a cycle, a throw, a value nested too deep for the
 *   stack), an object more than `maxDepth` levels down as `"[too deep]"`: building a view and
 *   serializing it never throw (but for what no text can hold, such as a string longer than the
 *   engine's limit: the monitor guards every rendering for that);
 * - an event's job lists hold at most `listLimit` entries each (`Supervisor.watch` lists no more);
 *   `totals` has the full counts.
 */
import type { Outcome, Supervisor } from "@tributary/jobs"
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"

type Snapshot = Supervisor.Snapshot
type Progress = Supervisor.Progress

/** One failure as sent: the outcome without its `exit`, with the failure's message and stack. */
export interface FailureView extends Omit<Outcome.Outcome, "exit" | "annotations" | "payload"> {
  /** the error's message ("interrupted", "timed out" for those outcomes) */
  readonly message: string
  /** the whole cause, rendered with its stack traces ("" when there is none) */
  readonly stack: string
  /** the job's annotations without the secret keys */
  readonly annotations?: Record<string, unknown>
  /** a definition's payload without the secret keys */
  readonly payload?: unknown
}

/** `/snapshot`: a `Snapshot` with its failures as `FailureView`s. */
export interface SnapshotView extends Omit<Snapshot, "recentFailures"> {
  /** the snapshot's `recentFailures` (newest first), each as a `FailureView` */
  readonly recentFailures: ReadonlyArray<FailureView>
}

/** An `/events` message: a `Progress` whose job lists are capped (`totals` has the full counts). */
export interface ProgressView extends SnapshotView {
  /** the watch element's rates per second: jobs started, outcomes, failures (see `Supervisor.Progress`) */
  readonly rates: Progress["rates"]
}

/** A secret path split into its segments ("*" matches any key or index); see `parseSecret`. */
export type SecretPath = ReadonlyArray<string>

/**
 * A pino `redact` path split into its segments, or `undefined` when it is not one: `"a.b"` →
 * `["a", "b"]`, `'a["x-key"].b'` → `["a", "x-key", "b"]`, `"a[0]"` → `["a", "0"]`, `"a[*].b"` and
 * `"*.b"` → a `"*"` segment (any key or index).
 */
export const parseSecret = (path: string): SecretPath | undefined => {
  const segments: Array<string> = []
  let at = 0
  while (at < path.length) {
    // a bracket may come anywhere; a plain name starts the path or follows a dot
    let pattern: RegExp
    if (path[at] === "[") pattern = bracket
    else if (segments.length === 0) pattern = name
    else if (path[at] === ".") {
      at++
      pattern = name
    } else return undefined
    pattern.lastIndex = at
    const match = pattern.exec(path)
    if (match === null) return undefined
    segments.push(match[1] ?? match[2] ?? match[3])
    at = pattern.lastIndex
  }
  return segments.length === 0 ? undefined : segments
}

/** The view of a snapshot; `secrets` are the parsed secret paths (plus each whole path as one key). */
export const snapshotView = (snapshot: Snapshot, secrets: ReadonlyArray<SecretPath>): SnapshotView => ({
  ...snapshot,
  ...(secrets.length === 0
    ? {}
    : {
        running: snapshot.running.map((j) => withoutSecretProgress(j, secrets)),
        queued: snapshot.queued.map((j) => withoutSecretProgress(j, secrets)),
        delayed: snapshot.delayed.map((j) => withoutSecretProgress(j, secrets))
      }),
  recentFailures: snapshot.recentFailures.map((o) => failureView(o, secrets))
})

/** The view of a watch element (its job lists were capped by `Supervisor.watch`'s `listLimit`). */
export const progressView = (progress: Progress, secrets: ReadonlyArray<SecretPath>): ProgressView => ({
  ...snapshotView(progress, secrets),
  rates: progress.rates
})

/** JSON text of `value` that never throws (see the invariants above). */
export const toJson = (value: unknown): string => {
  try {
    return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v))
  } catch {
    // a cycle, a getter, `toJSON` or Proxy trap that throws, or a value nested deeper than the
    // stack goes: read it field by field, at most `maxDepth` levels down
    return JSON.stringify(readable(value, [], 0))
  }
}

/** `value` without the keys the `paths` match (copied along the paths; the rest shared). */
export const withoutSecrets = (value: unknown, paths: ReadonlyArray<SecretPath>): unknown => {
  if (paths.length === 0 || typeof value !== "object" || value === null) return value
  const fields = fieldsOf(value)
  if (fields === undefined) return unreadable
  const kept: Array<[string, unknown]> = []
  for (const [key, v] of fields.entries) {
    const matching = paths.filter((p) => p[0] === key || p[0] === "*")
    if (matching.some((p) => p.length === 1)) continue
    kept.push([
      key,
      matching.length === 0
        ? v
        : withoutSecrets(
            v,
            matching.map((p) => p.slice(1))
          )
    ])
  }
  return fields.array ? kept.map(([, v]) => v) : Object.fromEntries(kept)
}

/** How many levels down `toJson`'s field-by-field reading goes; an object deeper is `tooDeep`. */
export const maxDepth = 100

/** What an object more than `maxDepth` levels down reads as (see `toJson`). */
export const tooDeep = "[too deep]"

// ── private helpers ─────────────────────────────────────────────────────────

/** What a field reads as when reading it throws (a getter, a `toJSON`, a Proxy trap). */
const unreadable = "[unreadable]"

/**
 * The fields (an array's elements by index) of `value`, each read on its own, and whether it is an
 * array (asked once: a getter may revoke the Proxy it is read through); undefined if listing them throws.
 */
const fieldsOf = (
  value: object
): { readonly array: boolean; readonly entries: Array<[string, unknown]> } | undefined => {
  let array: boolean
  let keys: Array<string>
  try {
    array = Array.isArray(value)
    keys = array ? Array.from(value as ArrayLike<unknown>, (_, i) => String(i)) : Object.keys(value)
  } catch {
    return undefined
  }
  const entries = keys.map((key): [string, unknown] => {
    try {
      return [key, (value as Record<string, unknown>)[key]]
    } catch {
      return [key, unreadable]
    }
  })
  return { array, entries }
}

/**
 * `value` as plain data `JSON.stringify` cannot throw on: a cycle is "[Circular]", what throws
 * "[unreadable]", an object more than `maxDepth` levels down (`depth` counts them) "[too deep]" (each `toJSON`
 * call counts as a level: one may return a fresh object with a `toJSON` forever).
 */
const readable = (value: unknown, ancestors: Array<object>, depth: number): unknown => {
  if (typeof value === "bigint") return value.toString()
  if (typeof value !== "object" || value === null) return value
  if (ancestors.includes(value)) return "[Circular]"
  if (depth >= maxDepth) return tooDeep
  let toJSON: unknown
  try {
    toJSON = (value as { toJSON?: unknown }).toJSON
    if (typeof toJSON === "function") value = toJSON.call(value)
  } catch {
    return unreadable
  }
  if (typeof toJSON === "function") return readable(value, ancestors, depth + 1)
  const fields = fieldsOf(value as object)
  if (fields === undefined) return unreadable
  ancestors.push(value as object)
  const read = fields.entries.map(([key, v]): [string, unknown] => [key, readable(v, ancestors, depth + 1)])
  ancestors.pop()
  return fields.array ? read.map(([, v]) => v) : Object.fromEntries(read)
}

/** `["x-key"]`, `['x-key']`, `[0]`, `[*]`, at `lastIndex`. */
const bracket = /\[(?:"([^"]*)"|'([^']*)'|(\d+|\*))\]/y
/** A plain segment (no dot, bracket or quote), at `lastIndex`. */
const name = /([^.[\]"']+)/y

/** A listed job whose `Job.progress` value is without the secret paths. */
const withoutSecretProgress = (job: Supervisor.JobInfo, secrets: ReadonlyArray<SecretPath>): Supervisor.JobInfo =>
  job.progress === undefined ? job : { ...job, progress: withoutSecrets(job.progress, flatToo(secrets)) }

/** The paths, plus each whole dotted path as one key: annotation keys such as "user.token" are flat. */
const flatToo = (secrets: ReadonlyArray<SecretPath>): ReadonlyArray<SecretPath> => [
  ...secrets,
  ...secrets.filter((p) => p.length > 1).map((p) => [p.join(".")])
]

/** An outcome as sent. */
const failureView = (o: Outcome.Outcome, secrets: ReadonlyArray<SecretPath>): FailureView => {
  const { exit, annotations, payload, ...rest } = o
  const paths = flatToo(secrets)
  // pino's redact paths name a failure's error "err": "err.password" is the error's "password"
  const errorPaths = [...paths, ...secrets.filter((p) => p.length > 1 && p[0] === "err").map((p) => p.slice(1))]
  const { message, stack } = describe(o._tag, exit, errorPaths)
  // and a defined job's payload "job.payload" (one field whose name holds a dot): pino's
  // '["job.payload"].password' is the payload's "password"; '["job.payload"]' the whole payload
  const payloadHidden = secrets.some((p) => p.length === 1 && p[0] === "job.payload")
  const payloadPaths = [
    ...paths,
    ...secrets.filter((p) => p.length > 1 && p[0] === "job.payload").map((p) => p.slice(1))
  ]
  return {
    ...rest,
    message,
    stack,
    ...(annotations === undefined
      ? {}
      : { annotations: withoutSecrets(annotations, paths) as Record<string, unknown> }),
    ...(payload === undefined || payloadHidden ? {} : { payload: withoutSecrets(payload, payloadPaths) })
  }
}

/** The message and the rendered cause of an outcome's exit, without the secret `paths`. */
const describe = (
  tag: Outcome.OutcomeTag,
  exit: Exit.Exit<unknown, unknown>,
  paths: ReadonlyArray<SecretPath>
): { message: string; stack: string } => {
  if (tag === "TimedOut") return { message: "timed out", stack: "" }
  if (!Exit.isFailure(exit)) return { message: "", stack: "" }
  if (tag === "Interrupted" || Cause.hasInterruptsOnly(exit.cause)) return { message: "interrupted", stack: "" }
  try {
    const cause = causeWithoutSecrets(exit.cause, paths)
    return { message: messageOf(Cause.squash(cause)), stack: Cause.pretty(cause) }
  } catch {
    // an error whose message, stack or cause getter throws
    return { message: unreadable, stack: "" }
  }
}

/**
 * `cause` with each failure and defect that is not an `Error` without the secret `paths` (its
 * fields are rendered, as JSON, into the message and the stack), and an `Error`'s `cause` chain
 * likewise; an `Error`'s own fields are not rendered. A reason keeps its annotations (the spans).
 */
const causeWithoutSecrets = (cause: Cause.Cause<unknown>, paths: ReadonlyArray<SecretPath>): Cause.Cause<unknown> => {
  if (paths.length === 0) return cause
  const reasons = cause.reasons.flatMap((reason) => {
    if (reason._tag === "Interrupt") return [reason]
    const value = reason._tag === "Fail" ? reason.error : reason.defect
    const clean = errorWithoutSecrets(value, paths, new Set())
    if (clean === value) return [reason]
    const fresh = Cause.fromReasons([reason._tag === "Fail" ? Cause.makeFailReason(clean) : Cause.makeDieReason(clean)])
    return Cause.annotate(fresh, Cause.reasonAnnotations(reason)).reasons
  })
  return Cause.fromReasons(reasons)
}

/** A failure's value as `causeWithoutSecrets` renders it (`seen` ends a cycle of causes). */
const errorWithoutSecrets = (value: unknown, paths: ReadonlyArray<SecretPath>, seen: Set<unknown>): unknown => {
  if (typeof value !== "object" || value === null) return value
  if (seen.has(value)) return "[Circular]"
  seen.add(value)
  if (value instanceof Error) {
    const cause = errorWithoutSecrets(value.cause, paths, seen)
    if (cause === value.cause) return value
    const copy = new Error(value.message, { cause })
    copy.name = value.name
    if (value.stack !== undefined) copy.stack = value.stack
    return copy
  }
  const kept = withoutSecrets(value, paths)
  if (typeof kept === "object" && kept !== null && "cause" in kept)
    return { ...kept, cause: errorWithoutSecrets(kept.cause, paths, seen) }
  return kept
}

/** An error's message; any other value as text. */
const messageOf = (error: unknown): string => {
  if (error instanceof Error) return error.message === "" ? error.name : error.message
  if (typeof error === "string") return error
  const json = toJson(error)
  return json === undefined ? String(error) : json
}
