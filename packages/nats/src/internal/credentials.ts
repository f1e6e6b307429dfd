/**
 * Credentials in a server URL (`nats://user:password@host:4222`, or `nats://token@host:4222` for
 * token authentication, as the nats CLI reads them). The client ignores them in a URL (it sends
 * none: "Authorization Violation"), so they are taken out of the URLs and passed as options.
 *
 * Invariants: `redact` leaves no user, password or token in what it returns (every error and log
 * line that names a URL goes through it); `splitCredentials` returns the URLs without them and
 * the one set they carry (the client sends one set to every server).
 *
 * @internal
 */

/** The authentication options of `connect`: none, a user and password, or a token. */
export type Auth = { readonly user: string; readonly pass: string } | { readonly token: string } | {}

/** `url` with its credentials, if any, replaced by `***`. */
export const redact = (url: string): string => url.replace(USERINFO, (_all, scheme: string) => `${scheme}***@`)

/** Redacts every URL in `text` (a list of URLs joined, say). */
export const redactAll = (text: string): string =>
  text.replace(USERINFO_ANYWHERE, (_all, scheme: string) => `${scheme}***@`)

/**
 * The URLs without their credentials, and the credentials; undefined when two URLs carry
 * different ones.
 */
export const splitCredentials = (
  servers: ReadonlyArray<string>
): { readonly urls: Array<string>; readonly auth: Auth } | undefined => {
  const found = new Set<string>()
  const urls = servers.map((url) => {
    const m = USERINFO_PARTS.exec(url)
    found.add(m === null ? "" : m[2])
    return m === null ? url : `${m[1]}${m[3]}`
  })
  if (found.size > 1) return undefined
  const userinfo = [...found][0] ?? ""
  if (userinfo === "") return { urls, auth: {} }
  const colon = userinfo.indexOf(":")
  return colon < 0
    ? { urls, auth: { token: decoded(userinfo) } }
    : { urls, auth: { user: decoded(userinfo.slice(0, colon)), pass: decoded(userinfo.slice(colon + 1)) } }
}

// ── private helpers ─────────────────────────────────────────────────────────

/** `scheme://userinfo@` at the start of a URL */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i
const USERINFO_ANYWHERE = /([a-z][a-z0-9+.-]*:\/\/)[^/@\s,]*@/gi
const USERINFO_PARTS = /^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@(.*)$/i

/** A percent-encoded part as it decodes (`p%40ss` is `p@ss`), or as written when it does not. */
const decoded = (part: string): string => {
  try {
    return decodeURIComponent(part)
  } catch {
    return part
  }
}
