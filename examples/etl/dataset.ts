/**
 * The partner's data, made from a seed: the same seed gives the same records (with the same messy
 * fields) and the same faults, in every run and in the tests that check which records failed.
 *
 * Faults, each on a seeded share of the records (disjoint):
 * - "transient" (2%): the first detail request answers 500, the next ones succeed;
 * - "gone" (0.5%): every detail request answers 404;
 * - "dirty" (1%): the record is served, but one field is beyond cleaning.
 */

/** A record as the partner serves it: strings with stray whitespace and mixed case, optional fields missing. */
export interface RawRecord {
  readonly id: number
  readonly updatedAt: string
  readonly name: string
  readonly email?: string
  readonly price: string
  readonly currency?: string
  readonly country?: string
}

export type Fault = "transient" | "gone" | "dirty"

/** The share of records with each fault. */
export const faultRates: Readonly<Record<Fault, number>> = { transient: 0.02, gone: 0.005, dirty: 0.01 }

/** The fault of record `id` under `seed`, if it has one. */
export const faultOf = (seed: number, id: number): Fault | undefined => {
  const u = unit(seed, id, 1)
  if (u < faultRates.transient) return "transient"
  if (u < faultRates.transient + faultRates.gone) return "gone"
  if (u < faultRates.transient + faultRates.gone + faultRates.dirty) return "dirty"
  return undefined
}

/** The ids 1..records with each fault, for tests and for `/_stats`. */
export const faultsOf = (seed: number, records: number): Record<Fault, Array<number>> => {
  const out: Record<Fault, Array<number>> = { transient: [], gone: [], dirty: [] }
  for (let id = 1; id <= records; id++) {
    const f = faultOf(seed, id)
    if (f !== undefined) out[f].push(id)
  }
  return out
}

/** Record `id` under `seed`. */
export const recordOf = (seed: number, id: number): RawRecord => {
  const pick = <A>(xs: ReadonlyArray<A>, salt: number): A => xs[Math.floor(unit(seed, id, salt) * xs.length)]
  const first = pick(firstNames, 2)
  const last = pick(lastNames, 3)
  const name = messy(`${first}  ${last}`, unit(seed, id, 4))
  const cents = 100 + Math.floor(unit(seed, id, 5) * 500_000)
  const price = pick(priceFormats, 6)(cents)
  const updatedAt = updatedAtOf(seed, id)
  const record: { -readonly [K in keyof RawRecord]: RawRecord[K] } = { id, updatedAt, name, price }
  if (unit(seed, id, 8) > 0.1) record.email = messy(`${first}.${last}@Example.com`, unit(seed, id, 9))
  if (unit(seed, id, 10) > 0.2) record.currency = pick(["usd", "USD", " Usd ", "eur", "EUR "], 11)
  if (unit(seed, id, 12) > 0.15) record.country = pick(["de", " DE", "fr", "Us", "gb ", "NL"], 13)
  if (faultOf(seed, id) === "dirty") {
    const how = pick(["price", "name", "email"] as const, 14)
    if (how === "price") record.price = pick(["N/A", "call us", "12.3.4", ""], 15)
    else if (how === "name") record.name = "  \t "
    else record.email = `${first}.${last} at example dot com`
  }
  return record
}

/** When record `id` last changed (what a page lists). */
export const updatedAtOf = (seed: number, id: number): string =>
  new Date(Date.UTC(2026, 0, 1) + Math.floor(unit(seed, id, 7) * 300 * 86_400_000)).toISOString()

// ── private helpers ─────────────────────────────────────────────────────────

/** A number in [0, 1) determined by (seed, id, salt): a 32-bit integer hash (splitmix-like). */
const unit = (seed: number, id: number, salt: number): number => {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(id | 0, 0x85ebca77) ^ Math.imul(salt, 0xc2b2ae3d)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d)
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b)
  h ^= h >>> 16
  return (h >>> 0) / 2 ** 32
}

/** `s` in one of several casings, with stray whitespace. */
const messy = (s: string, u: number): string => {
  const cased = u < 0.25 ? s.toUpperCase() : u < 0.5 ? s.toLowerCase() : s
  return u * 7 - Math.floor(u * 7) < 0.5 ? ` ${cased}  ` : cased
}

const priceFormats: ReadonlyArray<(cents: number) => string> = [
  (c) => (c / 100).toFixed(2),
  (c) => `$${(c / 100).toFixed(2)}`,
  (c) => ` ${String(Math.floor(c / 100)).replace(/\B(?=(\d{3})+$)/g, ",")}.${String(c % 100).padStart(2, "0")} `,
  (c) => String(Math.round(c / 100))
]

const firstNames = ["ada", "Grace", "ALAN", "edsger", "Barbara", "ken", "Radia", "donald", "Frances", "john"]
const lastNames = ["Lovelace", "hopper", "TURING", "dijkstra", "Liskov", "thompson", "Perlman", "knuth", "Allen"]
