/**
 * What travels on NATS: the names of the streams, subjects and consumer (from one `prefix`), the
 * headers of a job message, the outcome message a worker publishes back, and the core-NATS
 * messages beside them: a cancel (the job message's id) and a job's progress.
 *
 * Invariants:
 * - A job message's id (`Nats-Msg-Id`) is `${instance}.${jobId}.${attempt}` (the job id through
 *   `escapeHeader`: a caller-given id may hold a line break): unique per firing
 *   supervisor instance, job and local attempt, so a retried publish is deduplicated by the
 *   stream and an outcome is matched to exactly one waiting job.
 * - An outcome message carries the job message's id; its own id is `outcome.${id}`, so a second
 *   outcome of a redelivered job within the stream's duplicate window is dropped by the stream,
 *   and any later one by the firing side (it waits for each id once).
 * - A job's progress goes to `<prefix>.progress.<instance>`, the instance being the first token of
 *   its message id: only the supervisor that fired it listens there.
 * - A header value never holds CR or LF (NATS headers are lines): the definition, name, pool and
 *   key travel with `%`, CR and LF written `%25`, `%0D`, `%0A` (any other text as it is), and
 *   `decodeHeaders` gives them back exactly.
 * - Everything encoded here is JSON; `decodeOutcome` and `decodeProgress` never throw (a malformed
 *   message is `undefined`).
 * - A job's body is its encoded payload as JSON, or empty for `undefined` (JSON has no undefined):
 *   `encodePayload` and `decodePayload` are inverses for every payload `notJson` accepts.
 *
 * @internal
 */
import type { MsgHdrs } from "@nats-io/transport-node"
import { headers as makeHeaders } from "@nats-io/transport-node"
import * as Exit from "effect/Exit"

/** The names of one deployment's streams, subjects and consumer. */
export interface Names {
  /** what they are made of (for messages) */
  readonly prefix: string
  readonly jobsStream: string
  readonly jobsSubject: string
  readonly outcomesStream: string
  readonly outcomesPrefix: string
  readonly consumer: string
  /** core NATS, every worker listens: the ids of jobs cancelled by their supervisor */
  readonly cancelSubject: string
  /** core NATS: `<progressPrefix>.<instance>` carries the progress of that supervisor's jobs */
  readonly progressPrefix: string
}

/** The names for `prefix` (checked by `validPrefix`). */
export const namesOf = (prefix: string): Names => ({
  prefix,
  jobsStream: `${prefix.toUpperCase()}_JOBS`,
  jobsSubject: `${prefix}.jobs`,
  outcomesStream: `${prefix.toUpperCase()}_OUTCOMES`,
  outcomesPrefix: `${prefix}.outcomes`,
  consumer: `${prefix}-workers`,
  cancelSubject: `${prefix}.cancel`,
  progressPrefix: `${prefix}.progress`
})

/** The subject of the progress of the job whose message id is `id` (see the invariants). */
export const progressSubjectOf = (names: Names, id: string): string => {
  const dot = id.indexOf(".")
  return `${names.progressPrefix}.${dot < 0 ? id : id.slice(0, dot)}`
}

/** A prefix is one token usable in stream, subject and consumer names. */
export const validPrefix = (prefix: unknown): prefix is string =>
  typeof prefix === "string" && /^[A-Za-z0-9_-]{1,32}$/.test(prefix)

/** What a job message says besides its payload (the body). */
export interface JobHeaders {
  readonly definition: string
  readonly name: string
  readonly pool: string | undefined
  readonly key: string | undefined
  /** the subject the outcome goes to */
  readonly reply: string
  readonly annotations: Record<string, unknown> | undefined
}

/** The header of the probe message that checks a stream just made stores (`connection.ensureStreams`): not a job. */
export const PROBE_HEADER = "Tributary-Probe"

const H = {
  definition: "Tributary-Definition",
  name: "Tributary-Name",
  pool: "Tributary-Pool",
  key: "Tributary-Key",
  reply: "Tributary-Reply",
  annotations: "Tributary-Annotations"
} as const

/** The NATS headers of a job message. */
export const encodeHeaders = (h: JobHeaders): MsgHdrs => {
  const out = makeHeaders()
  out.set(H.definition, escapeHeader(h.definition))
  out.set(H.name, escapeHeader(h.name))
  out.set(H.reply, h.reply)
  if (h.pool !== undefined) out.set(H.pool, escapeHeader(h.pool))
  if (h.key !== undefined) out.set(H.key, escapeHeader(h.key))
  if (h.annotations !== undefined) out.set(H.annotations, toJson(h.annotations))
  return out
}

/** The headers of a received job message; `undefined` when it is not one of ours. */
export const decodeHeaders = (hdrs: MsgHdrs | undefined): JobHeaders | undefined => {
  if (hdrs === undefined) return undefined
  const definition = hdrs.get(H.definition)
  const reply = hdrs.get(H.reply)
  if (definition === "" || reply === "") return undefined
  const annotations = hdrs.get(H.annotations)
  return {
    definition: unescapeHeader(definition),
    name: unescapeHeader(hdrs.get(H.name) || definition),
    pool: hdrs.get(H.pool) ? unescapeHeader(hdrs.get(H.pool)) : undefined,
    key: hdrs.get(H.key) ? unescapeHeader(hdrs.get(H.key)) : undefined,
    reply,
    annotations: annotations === "" ? undefined : (parse(annotations) as Record<string, unknown> | undefined)
  }
}

/** The outcome a worker publishes back: a job's final exit in JSON form. */
export interface WireOutcome {
  /** the job message's id */
  readonly id: string
  readonly tag: "Success" | "Failure" | "Defect" | "Interrupted"
  /** the success value, or the error / defect (see `toWire`); null for an interruption */
  readonly value: unknown
  /** the worker that ran it */
  readonly worker: string
  /** the delivery that ended it (1 for the first) */
  readonly delivery: number
}

/** The wire form of an exit: a success, a typed failure, a defect, or else an interruption (a job cancelled by its supervisor). */
export const encodeOutcome = (
  id: string,
  exit: Exit.Exit<unknown, unknown>,
  worker: string,
  delivery: number
): string => {
  if (Exit.isSuccess(exit)) return envelope(id, "Success", exit.value, worker, delivery)
  const failure = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (failure !== undefined) return envelope(id, "Failure", toWire(failure.error), worker, delivery)
  const defect = exit.cause.reasons.find((r) => r._tag === "Die")
  if (defect === undefined) return envelope(id, "Interrupted", null, worker, delivery)
  return envelope(id, "Defect", toWire(defect.defect), worker, delivery)
}

/**
 * An outcome's JSON: its value written on its own (by `toJson`), so a value JSON cannot hold as it
 * is (a cycle: an HTTP error holding its request, say) never takes the id with it — the outcome
 * of such a job was a bare string, matched to no job: its awaiter waited for ever.
 */
const envelope = (id: string, tag: WireOutcome["tag"], value: unknown, worker: string, delivery: number): string =>
  `{"id":${JSON.stringify(id)},"tag":"${tag}","worker":${JSON.stringify(worker)},"delivery":${JSON.stringify(delivery)}${
    value === undefined ? "" : `,"value":${toJson(value)}`
  }}`

/** An outcome message, or `undefined` when it is not one. */
export const decodeOutcome = (text: string): WireOutcome | undefined => {
  const o = parse(text) as Partial<WireOutcome> | undefined
  if (o === undefined || typeof o.id !== "string") return undefined
  if (o.tag !== "Success" && o.tag !== "Failure" && o.tag !== "Defect" && o.tag !== "Interrupted") return undefined
  return o as WireOutcome
}

/** The exit a remote outcome stands for in the firing process. */
export const exitOf = (o: WireOutcome): Exit.Exit<unknown, unknown> =>
  o.tag === "Success"
    ? Exit.succeed(o.value)
    : o.tag === "Failure"
      ? Exit.fail(fromWire(o.value))
      : o.tag === "Defect"
        ? Exit.die(fromWire(o.value))
        : Exit.interrupt()

/** A job's progress message: its message id and the latest value it reported. */
export const encodeProgress = (id: string, value: unknown): string => toJson({ id, progress: value })

/** A progress message, or `undefined` when it is not one. */
export const decodeProgress = (text: string): { readonly id: string; readonly progress: unknown } | undefined => {
  const p = parse(text) as { id?: unknown; progress?: unknown } | undefined
  return typeof p === "object" && p !== null && typeof p.id === "string"
    ? { id: p.id, progress: p.progress }
    : undefined
}

/**
 * Where the encoded payload `value` holds what JSON cannot carry as it is (a bigint, a symbol, a
 * function, a cycle, a number that is not finite, `undefined` in an array, an object that is not
 * plain: a Date, a Map, a class instance), and what is there; `undefined` when JSON carries it. An
 * object's property that is `undefined` is allowed: JSON drops it, as an optional key.
 */
export const notJson = (value: unknown): { readonly path: string; readonly found: string } | undefined => {
  const ancestors = new Set<object>()
  const visit = (v: unknown, path: string): { readonly path: string; readonly found: string } | undefined => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return undefined
      case "number":
        return Number.isFinite(v) ? undefined : { path, found: String(v) }
      case "object":
        break
      default:
        return { path, found: typeof v === "undefined" ? "undefined" : `a ${typeof v}` }
    }
    if (v === null) return undefined
    if (ancestors.has(v)) return { path, found: "a cycle (an object inside itself)" }
    const array = Array.isArray(v)
    const proto = Object.getPrototypeOf(v)
    if (!array && proto !== Object.prototype && proto !== null)
      return { path, found: `a ${(v as { constructor?: { name?: string } }).constructor?.name || "non-plain object"}` }
    ancestors.add(v)
    let problem: { readonly path: string; readonly found: string } | undefined
    if (array) for (let i = 0; i < v.length && problem === undefined; i++) problem = visit(v[i], `${path}[${i}]`)
    else
      for (const [k, x] of Object.entries(v)) {
        if (x !== undefined) problem = visit(x, `${path}.${k}`)
        if (problem !== undefined) break
      }
    ancestors.delete(v)
    return problem
  }
  return value === undefined ? undefined : visit(value, "payload")
}

/** A job's body: its encoded payload as JSON, empty for `undefined` (see the invariants). */
export const encodePayload = (value: unknown): string => (value === undefined ? "" : toJson(value))

/** The payload of a job's body (`encodePayload`'s inverse); a body that is not JSON stays its text (its Schema says what is wrong). */
export const decodePayload = (text: string): unknown => {
  if (text === "") return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * JSON text of `value`; a bigint becomes its `String`, an object inside itself (a cycle) the string
 * "[Circular]" (the rest is kept); what still cannot be written (a getter or `toJSON` that throws)
 * becomes the value's `String` (or "[unreadable]"): it never throws.
 */
export const toJson = (value: unknown): string => {
  try {
    // without a replacer first: a replacer makes every stringify several times slower, and only a
    // bigint or a cycle needs it (JSON.stringify throws on them, and then the replacer handles them)
    return JSON.stringify(value) ?? "null"
  } catch {
    try {
      return JSON.stringify(value, acyclic()) ?? "null"
    } catch {
      return JSON.stringify(String(unthrown(() => String(value))))
    }
  }
}

/** A replacer writing bigints as strings and a cycle as "[Circular]" (shared objects that are no cycle are written in full). */
const acyclic = () => {
  /** the objects being written, outermost first */
  const ancestors: Array<unknown> = []
  return function (this: unknown, _key: string, v: unknown): unknown {
    if (typeof v === "bigint") return String(v)
    if (typeof v !== "object" || v === null) return v
    // `this` is the object holding `v`: the ones written after it are done
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop()
    if (ancestors.includes(v)) return "[Circular]"
    ancestors.push(v)
    return v
  }
}

// ── private helpers ─────────────────────────────────────────────────────────

/** A header value without CR or LF (see the invariants); text without `%`, CR or LF as it is. */
export const escapeHeader = (text: string): string =>
  /[%\r\n]/.test(text) ? text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A") : text

/** The inverse of `escapeHeader`. */
const unescapeHeader = (text: string): string =>
  text.includes("%")
    ? text.replace(/%(25|0D|0A)/g, (_, code: string) => String.fromCharCode(Number.parseInt(code, 16)))
    : text

/** Marks an error on the wire (its own fields travel beside). */
const ERROR = "~tributary/error"

/** An Error becomes `{ [ERROR]: true, name, message, stack, ...its own fields }`; other values travel as they are. */
const toWire = (u: unknown): unknown => {
  if (!(u instanceof Error)) return u
  const fields: Record<string, unknown> = {}
  for (const k of Object.keys(u)) fields[k] = unthrown(() => (u as unknown as Record<string, unknown>)[k])
  return {
    ...fields,
    [ERROR]: true,
    name: unthrown(() => u.name),
    message: unthrown(() => u.message),
    stack: unthrown(() => u.stack)
  }
}

/** What `read` gives, or "[unreadable]" when it throws (a getter that throws must not lose the outcome). */
const unthrown = (read: () => unknown): unknown => {
  try {
    return read()
  } catch {
    return "[unreadable]"
  }
}

/** The inverse of `toWire`: an Error with the same name, message and fields (not the same class). */
const fromWire = (u: unknown): unknown => {
  if (typeof u !== "object" || u === null || (u as Record<string, unknown>)[ERROR] !== true) return u
  const { [ERROR]: _, name, message, stack, ...fields } = u as Record<string, unknown>
  const error = new Error(typeof message === "string" ? message : "")
  Object.assign(error, fields)
  Object.defineProperty(error, "name", { value: typeof name === "string" ? name : "Error", enumerable: false })
  if (typeof stack === "string") error.stack = stack
  return error
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
