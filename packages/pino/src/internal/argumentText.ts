/**
 * How an error for a bad argument words it: the value as it reads in a message (`shown`), and what
 * an unknown option expects (`knownOption`: a misspelt option would be ignored, a monitor on a
 * random port or a flush that never waits, so every options argument is checked against its known
 * names, and the error says which one was meant when one is close).
 *
 * This module is written once in each package that needs it, because none can import another's:
 * every package's exports map closes `./internal/*` (an export elsewhere would be public API), and
 * `@tributary/pino` depends on no other package. It is the same text in `@tributary/nats`,
 * `@tributary/monitor` and `@tributary/pino` (`internal/argumentText.ts`); `@tributary/channel`
 * (`internal/arguments.ts` `closestName`, `ChanError.ts` `describe`) and `@tributary/jobs`
 * (`internal/options.ts` `closest`, `SupervisorError.ts` `describe`) have their own by the same
 * rules. A change to a rule goes into all five.
 *
 * Invariants: `shown` never throws and never returns more than `maxShown` characters and "…";
 * `knownOption` names only names of `known`, and suggests one only when it is close.
 *
 * @internal
 */

/** How much of a value a message shows: a large one is cut (with "…"), never printed whole. */
const maxShown = 200

/**
 * `value` for a message: strings quoted, numbers as they are (NaN and Infinity, which JSON writes
 * as null), a bigint as `7n`, a function as "a function" (not its source), the rest as JSON when it
 * can be; cut after `maxShown` characters.
 */
export const shown = (value: unknown): string => {
  const s = whole(value)
  return s.length > maxShown ? `${s.slice(0, maxShown)}…` : s
}

const whole = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "number" || typeof value === "boolean" || value === undefined) return String(value)
  if (typeof value === "bigint") return `${value}n`
  if (typeof value === "function") return "a function"
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return Object.prototype.toString.call(value) // a cycle, a getter or a Proxy trap that throws
  }
}

/**
 * What the unknown option `key` expects, for the error's `expected`: "a known option (did you mean
 * X?); the known ones are …", the suggestion only when one of `known` is close.
 */
export const knownOption = (key: string, known: ReadonlyArray<string>): string => {
  const meant = closestName(key, known)
  return `a known option${meant === undefined ? "" : ` (did you mean ${meant}?)`}; the known ones are ${known.join(", ")}`
}

/**
 * The name of `known` that `key` most likely misspells, if one is close enough: the same but for
 * case, one a prefix of the other (3 letters at least), or few edits away for its length (1 up to
 * 4 letters, 2 up to 6, 3 beyond).
 */
const closestName = (key: string, known: ReadonlyArray<string>): string | undefined => {
  const k = key.toLowerCase()
  const allowed = k.length <= 4 ? 1 : k.length <= 6 ? 2 : 3
  let best: string | undefined
  let bestDistance = allowed + 1
  for (const name of known) {
    const n = name.toLowerCase()
    const prefix = Math.min(k.length, n.length) >= 3 && (n.startsWith(k) || k.startsWith(n))
    const distance = k === n ? 0 : prefix ? 1 : editDistance(k, n)
    if (distance < bestDistance) {
      best = name
      bestDistance = distance
    }
  }
  return best
}

/** How many single-letter insertions, deletions or substitutions turn `a` into `b` (Levenshtein). */
const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]
}
