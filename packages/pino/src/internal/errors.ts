/**
 * How `PinoLogger` writes a `Cause` as a line's `err` (the shape `PinoLogger.SerializedCause`
 * documents): each reason's kind, name, message and stack, the failure's or defect's own fields,
 * and its chain of causes.
 *
 * Invariants:
 * 1. Every object a redact path may need to reach sits at one of three places: `err` (the primary
 *    reason's error), `err.cause` (that error's direct cause) or an element of `err.causes` (the
 *    other reasons, then every other cause at any depth of any reason's chain, each with
 *    `causeOf` naming where the error it is the cause of is written). No object is nested inside
 *    another cause, so `err.password`, `err.cause.password` and `err.causes[*].password` cover
 *    every depth (pino's redact has no recursive wildcard).
 * 2. A `cause` field of `err.cause` or of an entry only ever holds a value that is not an object:
 *    a primitive cause as it is, "[Circular]" where a chain loops back, "[unreadable]" where
 *    reading it threw, or the note of how many causes were left out past `maxCauses`.
 * 3. Serializing never throws and walks a chain by iteration: a chain of any length (or a getter
 *    that makes a new cause on each read) costs at most `maxCauses` written causes plus
 *    `maxCounted` reads to count the rest.
 *
 * @internal
 */
import { Cause } from "effect"

/** A serialized reason or cause: JSON-ready fields. */
export type Fields = { [field: string]: unknown }

/**
 * Serializes `reasons` (one `Cause`'s) for a line's `err` field, `undefined` for none (see the
 * module's invariants and `PinoLogger.SerializedCause`).
 */
export const serializeReasons = (reasons: ReadonlyArray<Cause.Reason<unknown>>): Fields | undefined => {
  if (reasons.length === 0) return undefined
  const several = reasons.length > 1
  const primary = several ? primaryIndex(reasons) : 0
  // the deeper causes go after the reasons' own entries in `causes` (there are none for one reason)
  const chain: Chain = { entries: [], offset: several ? reasons.length : 0 }
  const serialized = reasons.map((reason, i) =>
    serializeReason(reason, i === primary ? "err" : `err.causes[${i}]`, chain)
  )
  const top = serialized[primary]
  if (!several) return chain.entries.length === 0 ? top : { ...top, causes: chain.entries }
  return {
    ...top,
    stack: serialized.map((reason) => reason.stack).join("\n"),
    // the primary's own fields are err's: its entry names it without them, so a redact path such
    // as `err.password` covers that error wherever it appears
    causes: [...serialized.map((reason, i) => (i === primary ? identityOf(reason) : reason)), ...chain.entries]
  }
}

/** The reason `err` describes: the first failure, else the first defect, else the first reason. */
const primaryIndex = (reasons: ReadonlyArray<Cause.Reason<unknown>>): number => {
  const failure = reasons.findIndex(Cause.isFailReason)
  if (failure >= 0) return failure
  // the first defect, else (-1: none) the first reason
  return Math.max(reasons.findIndex(Cause.isDieReason), 0)
}

/** The entries of `causes` that are causes rather than reasons; `offset` is the index of the first. */
interface Chain {
  readonly entries: Array<Fields>
  readonly offset: number
}

/**
 * Precondition: `reason` is a single reason written at `place` ("err" or "err.causes[i]"). The
 * kind goes in `type`; a failure's or defect's own fields are copied as they are (so redact paths
 * reach them), never folded into `message`/`stack`; its causes go to `chain`.
 */
const serializeReason = (reason: Cause.Reason<unknown>, place: string, chain: Chain): Fields => {
  switch (reason._tag) {
    case "Fail":
    case "Die": {
      const original = reason._tag === "Fail" ? reason.error : reason.defect
      if (typeof original !== "object" || original === null) {
        // a string or another primitive is its own message (a secret inside it cannot be redacted by path)
        return { type: reason._tag, message: String(original), stack: Cause.pretty(Cause.fromReasons([reason])) }
      }
      const fields: Fields = { type: reason._tag, ...ownFields(original, stackOf(original, reason)) }
      writeCauses(original, place, fields, chain)
      return fields
    }
    case "Interrupt": {
      const stack = Cause.pretty(Cause.fromReasons([reason]))
      return reason.fiberId === undefined
        ? { type: "Interrupt", message: "interrupted", stack }
        : {
            type: "Interrupt",
            message: `interrupted by fiber #${reason.fiberId}`,
            stack,
            fiberId: `#${reason.fiberId}`
          }
    }
  }
}

/** `reason` without the error's own fields: its kind, name, message, stack and fiber. */
const identityOf = (reason: Fields): Fields => {
  const identity: Fields = { type: reason.type, message: reason.message, stack: reason.stack }
  if (reason.name !== undefined) identity.name = reason.name
  if (reason.fiberId !== undefined) identity.fiberId = reason.fiberId
  return identity
}

/** How many causes of one error's chain are written; the rest are counted in a note. */
const maxCauses = 64

/** How many causes past `maxCauses` are counted at most (a getter may make a new cause on each read). */
const maxCounted = 100_000

/**
 * Writes the chain of causes of `error` (written at `place`, its fields `fields`): the first cause
 * of the primary reason's error as `fields.cause` (`err.cause`), every other one as an entry of
 * `chain` naming its error in `causeOf`. A cause that is not an object ends the chain as the
 * `cause` field of its error; so do a cycle ("[Circular]") and `maxCauses` (a note of how many
 * were left out). Iterates: a chain of any depth never overflows the stack.
 */
const writeCauses = (error: object, place: string, fields: Fields, chain: Chain): void => {
  const seen = new Set<object>([error])
  // the error whose cause comes next: its fields and where they are written
  let owner = fields
  let ownerPlace = place
  let next = read(error, "cause")
  for (let written = 0; next !== undefined; written++) {
    if (typeof next !== "object" || next === null) {
      owner.cause = next
      return
    }
    if (seen.has(next)) {
      owner.cause = "[Circular]"
      return
    }
    if (written === maxCauses) {
      owner.cause = leftOut(next, seen)
      return
    }
    const cause = next
    seen.add(cause)
    const own = ownFields(cause, stringOr(read(cause, "stack"), undefined))
    if (ownerPlace === "err") {
      owner.cause = own
      ownerPlace = "err.cause"
      owner = own
    } else {
      // `causeOf` first: the entry reads as "the cause of …"
      owner = { causeOf: ownerPlace, ...own }
      chain.entries.push(owner)
      ownerPlace = `err.causes[${chain.offset + chain.entries.length - 1}]`
    }
    next = read(cause, "cause")
  }
}

/**
 * The note that ends a chain cut at `maxCauses`: how many causes follow from `first` on (itself
 * included), counted until the chain ends, loops back into `seen` or `maxCounted` is reached.
 */
const leftOut = (first: object, seen: Set<object>): string => {
  let count = 0
  let next: unknown = first
  while (next !== undefined && count < maxCounted) {
    if (typeof next === "object" && next !== null) {
      if (seen.has(next)) break
      seen.add(next)
      next = read(next, "cause")
    } else {
      next = undefined
    }
    count++
  }
  const more = next === undefined || count < maxCounted ? `${count}` : `over ${maxCounted}`
  return `[${more} more ${count === 1 ? "cause" : "causes"} left out]`
}

/**
 * Fields of a serialized reason or cause that an error's own field of the same name does not
 * overwrite (`cause` is always the chain, `causeOf` names a cause's error).
 */
const reservedFields: ReadonlySet<string> = new Set([
  "type",
  "name",
  "message",
  "stack",
  "fiberId",
  "causes",
  "cause",
  "causeOf"
])

/** What a field reads as when reading it throws (a throwing getter, a hostile `Proxy`). */
const unreadable = "[unreadable]"

/** `object[key]`, or `unreadable` when reading it throws: a failure's getters never cost its line. */
const read = (object: object, key: string): unknown => {
  try {
    return (object as Record<string, unknown>)[key]
  } catch {
    return unreadable
  }
}

/** The own enumerable keys of `object`, or none when listing them throws (a hostile `Proxy`). */
const ownKeys = (object: object): ReadonlyArray<string> => {
  try {
    return Object.keys(object)
  } catch {
    return []
  }
}

/**
 * Precondition: `error` is a non-null object. Its `name` (when a string), its `message` (its own
 * string message, else ""), `stack`, and every own enumerable field but the reserved ones (each
 * value through `safeCopy`); not its `cause` (see `writeCauses`). A field whose getter throws
 * reads as "[unreadable]" (the line is written all the same).
 */
const ownFields = (error: object, stack: string | undefined): Fields => {
  const out: Fields = {}
  const name = read(error, "name")
  if (typeof name === "string") out.name = name
  const message = read(error, "message")
  out.message = typeof message === "string" ? message : ""
  if (stack !== undefined) out.stack = stack
  for (const key of ownKeys(error)) {
    if (reservedFields.has(key) || isTypeMark(key)) continue
    const value = safeCopy(read(error, key), new Set([error]), 0)
    if (value !== undefined) out[key] = value
  }
  return out
}

/**
 * An effect type mark: a field named `~effect/…` that effect puts on its own errors to recognise
 * them (`UnknownError` carries `"~effect/Cause/UnknownError": "~effect/Cause/UnknownError"`). It
 * says nothing a reader needs (`_tag` and `name` say the same) and is left out of the line.
 */
const isTypeMark = (key: string): boolean => key.startsWith("~effect/")

/** How deep `safeCopy` copies a field's value; deeper objects read as "[Object]". */
const maxCopyDepth = 10

/**
 * A copy of a field's value that serializing cannot throw on, with JSON's meaning: a function or a
 * symbol is left out (`undefined`), a `toJSON` is called (a Date becomes its ISO string), an
 * object or array is copied field by field. A getter, `toJSON` or `Proxy` trap that throws reads as
 * "[unreadable]", an object that contains itself as "[Circular]" (so a secret cannot come back
 * through a cycle past the redact path that hid it), and nesting past `maxCopyDepth` as "[Object]".
 * Precondition: `ancestors` holds the objects on the way down to `value`.
 */
const safeCopy = (value: unknown, ancestors: Set<object>, depth: number): unknown => {
  if (typeof value === "function" || typeof value === "symbol") return undefined
  if (typeof value !== "object" || value === null) return value
  if (ancestors.has(value)) return "[Circular]"
  if (depth >= maxCopyDepth) return "[Object]"
  ancestors.add(value)
  try {
    const toJSON = read(value, "toJSON")
    if (toJSON === unreadable) return unreadable
    if (typeof toJSON === "function") return safeCopy(toJSON.call(value), ancestors, depth + 1)
    if (Array.isArray(value)) return value.map((item) => safeCopy(item, ancestors, depth + 1) ?? null)
    const out: Record<string, unknown> = {}
    for (const key of ownKeys(value)) {
      const copied = safeCopy(read(value, key), ancestors, depth + 1)
      if (copied !== undefined) out[key] = copied
    }
    return out
  } catch {
    // a toJSON, a Proxy's isArray or an array's iteration threw
    return unreadable
  } finally {
    ancestors.delete(value)
  }
}

const stringOr = <A>(u: unknown, otherwise: A): string | A => (typeof u === "string" ? u : otherwise)

/**
 * The stack of a failure or defect object: effect's rendering (the trace cut at effect's frames,
 * plus the span locations) when the object has a string message, since that rendering then holds
 * nothing but the name, the message and the trace; else only the name, as effect would dump every
 * field of the object into the text.
 */
const stackOf = (error: object, reason: Cause.Reason<unknown>): string => {
  const name = stringOr(read(error, "name"), "Error")
  if (typeof read(error, "message") !== "string") return name
  try {
    return Cause.prettyErrors(Cause.fromReasons([reason]))[0].stack ?? ""
  } catch {
    // a getter effect's rendering reads (`stack`, a `cause`'s fields) threw, or its rendering of a
    // chain of causes thousands deep overflowed the stack: the error's own stack, else the name
    const own = read(error, "stack")
    return typeof own === "string" && own !== unreadable ? own : name
  }
}
