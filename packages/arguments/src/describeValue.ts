/**
 * A value as an error message shows it (`describeValue`): what a user passed, readable and short,
 * whatever it is.
 *
 * Invariants:
 * - `describeValue` never throws (a getter or a Proxy trap that throws gives the value's
 *   `Object.prototype.toString`), never loops (a cycle reads "[Circular]") and never returns more
 *   than `maxDescribed` (200) characters and "…": the walk of a large value stops there.
 * - Where JSON would lose what went wrong, the value reads as it is: NaN, Infinity and -Infinity
 *   as such (not null), a bigint as `7n`, undefined as undefined, a function as "a function" (not
 *   its source), a thenable as "a Promise".
 *
 * @since 0.1.0
 */

/** How much of a value a message shows: a large one is cut (with "…"), never dumped whole. */
const maxDescribed = 200

/**
 * `value` for a message, in JSON's shape (`toJSON` honoured) but with NaN and Infinity as such,
 * functions as "a function", bigints as `7n`, a thenable as "a Promise", a cycle as "[Circular]";
 * cut after 200 characters (the walk stops there). A value whose reading throws (a hostile Proxy)
 * is its `Object.prototype.toString`.
 *
 * @example
 * ```ts
 * import { describeValue } from "@tributary/arguments"
 *
 * describeValue("5s") // '"5s"'
 * describeValue(Number.NaN) // "NaN"
 * describeValue({ seconds: 5, n: 7n }) // '{"seconds":5,"n":7n}'
 * describeValue(() => 1) // "a function"
 * ```
 *
 * @since 0.1.0
 */
export const describeValue = (value: unknown): string => {
  let out = ""
  const seen = new Set<object>()
  /** appends; false once the text is long enough (the walk then stops) */
  const put = (text: string): boolean => {
    out += text
    return out.length <= maxDescribed
  }
  const walk = (v: unknown): boolean => {
    if (typeof v === "string") return put(JSON.stringify(v))
    if (typeof v === "bigint") return put(`${v}n`)
    if (typeof v === "function") return put("a function")
    if (typeof v !== "object" || v === null) return put(String(v))
    if (typeof (v as { then?: unknown }).then === "function") return put("a Promise")
    if (typeof (v as { toJSON?: unknown }).toJSON === "function") return put(JSON.stringify(v) ?? "undefined") // a Date, a Duration
    if (seen.has(v)) return put('"[Circular]"')
    seen.add(v)
    if (Array.isArray(v)) {
      if (!put("[")) return false
      for (let i = 0; i < v.length; i++) if (!(i === 0 || put(",")) || !walk(v[i])) return false
      seen.delete(v) // a cycle is a value inside itself; the same value twice side by side is no cycle
      return put("]")
    }
    if (!put("{")) return false
    let first = true
    for (const key of Object.keys(v)) {
      if (!(first || put(",")) || !put(`${JSON.stringify(key)}:`) || !walk((v as Record<string, unknown>)[key]))
        return false
      first = false
    }
    seen.delete(v)
    return put("}")
  }
  try {
    walk(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
  return out.length > maxDescribed ? `${out.slice(0, maxDescribed)}…` : out
}
