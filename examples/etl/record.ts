/**
 * The clean step: a partner record (messy strings, optional fields) becomes a `Row` ready for the
 * database, or a `CleanError` naming the field and the value it could not clean.
 */
import { Data, Effect } from "effect"

/** A record as the database stores it. */
export interface Row {
  readonly id: number
  readonly updatedAt: string
  readonly name: string
  readonly email: string | null
  readonly priceCents: number
  readonly currency: string
  readonly country: string | null
}

export class CleanError extends Data.TaggedError("CleanError")<{
  readonly id: number
  readonly field: string
  readonly value: unknown
  readonly reason: string
}> {
  override get message() {
    return `record ${this.id}: ${this.field} ${JSON.stringify(this.value)} ${this.reason}`
  }
}

/** Cleans one record: trims and collapses whitespace, fixes case, parses the price into cents. */
export const clean = (raw: unknown): Effect.Effect<Row, CleanError> =>
  Effect.suspend(() => {
    const r = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>
    const id = typeof r.id === "number" ? r.id : -1
    const fail = (field: string, reason: string) => Effect.fail(new CleanError({ id, field, value: r[field], reason }))
    if (id < 1) return fail("id", "is not a positive number")
    if (typeof r.updatedAt !== "string" || Number.isNaN(Date.parse(r.updatedAt)))
      return fail("updatedAt", "is not a date")
    const name = typeof r.name === "string" ? words(r.name) : ""
    if (name === "") return fail("name", "is empty")
    let email: string | null = null
    if (r.email !== undefined) {
      email = typeof r.email === "string" ? r.email.trim().toLowerCase() : ""
      if (!/^[^\s@]+@[^\s@]+\.[a-z]+$/.test(email)) return fail("email", "is not an email address")
    }
    const priceCents = typeof r.price === "string" ? cents(r.price) : undefined
    if (priceCents === undefined) return fail("price", "is not a price")
    const currency = typeof r.currency === "string" ? r.currency.trim().toUpperCase() : "USD"
    if (!/^[A-Z]{3}$/.test(currency)) return fail("currency", "is not a currency code")
    const country = typeof r.country === "string" ? r.country.trim().toUpperCase() : null
    return Effect.succeed({ id, updatedAt: r.updatedAt, name, email, priceCents, currency, country })
  })

// ── private helpers ─────────────────────────────────────────────────────────

/** "  ada  LOVELACE " → "Ada Lovelace" */
const words = (s: string): string =>
  s
    .trim()
    .split(/\s+/)
    .filter((w) => w !== "")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())
    .join(" ")

/** " $1,234.5 " → 123450; undefined when it is not a price. */
const cents = (s: string): number | undefined => {
  const plain = s
    .trim()
    .replace(/^[$€£]\s*/, "")
    .replace(/,(?=\d{3}(?:\D|$))/g, "")
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(plain)
  if (m === null) return undefined
  return Number(m[1]) * 100 + Number((m[2] ?? "0").padEnd(2, "0"))
}
