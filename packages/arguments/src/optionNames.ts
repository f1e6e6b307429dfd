/**
 * The error text for an unknown option: which known name a misspelt key most likely means
 * (`closestName`) and what the option expects (`knownOption`: "a known option (did you mean X?);
 * the known ones are …"). A misspelt option would be ignored (a job without its timeout, a monitor
 * on a random port), so every package checks its options against their known names with these.
 *
 * Invariants:
 * - `closestName` returns a name of `known` or undefined, never another string; it suggests only
 *   a close name: the same but for case, one a prefix of the other (3 letters at least), or at
 *   most 1 edit away up to 4 letters, 2 up to 6, 3 beyond (an edit: a letter inserted, deleted or
 *   replaced, or two neighbours swapped); of equally close names, the first.
 * - `knownOption` lists every name of `known`, in its order, and names a suggestion only when
 *   `closestName` finds one.
 * - Both are pure and allocate nothing when `known` is empty.
 *
 * @since 0.1.0
 */

/**
 * The name of `known` that `key` most likely misspells, if one is close enough: the same but for
 * case, one a prefix of the other (3 letters at least), or few edits away for its length (1 up to
 * 4 letters, 2 up to 6, 3 beyond).
 *
 * @example
 * ```ts
 * import { closestName } from "@tributary/arguments"
 *
 * closestName("timeOut", ["timeout", "retry"]) // "timeout"
 * closestName("zzz", ["timeout", "retry"]) // undefined
 * ```
 *
 * @since 0.1.0
 */
export const closestName = (key: string, known: ReadonlyArray<string>): string | undefined => {
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

/**
 * What the unknown option `key` expects, for an error's `expected`: "a known option (did you mean
 * X?); the known ones are …", the suggestion only when one of `known` is close (`closestName`).
 *
 * @example
 * ```ts
 * import { knownOption } from "@tributary/arguments"
 *
 * knownOption("pot", ["port", "host"])
 * // "a known option (did you mean port?); the known ones are port, host"
 * knownOption("colour", ["level"])
 * // "a known option; the known ones are level"
 * ```
 *
 * @since 0.1.0
 */
export const knownOption = (key: string, known: ReadonlyArray<string>): string => {
  const meant = closestName(key, known)
  return `a known option${meant === undefined ? "" : ` (did you mean ${meant}?)`}; the known ones are ${known.join(", ")}`
}

/**
 * How many single-letter insertions, deletions, substitutions or swaps of two neighbours turn `a`
 * into `b` (the optimal string alignment distance: `nmae` is one edit from `name`, as a typist
 * sees it).
 */
const editDistance = (a: string, b: string): number => {
  let before: Array<number> = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1)
      current[j] = d
    }
    before = previous
    previous = current
  }
  return previous[b.length]!
}
