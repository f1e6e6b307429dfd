/**
 * Who may read the monitor. Invariants:
 * - with a token, a request passes only with `Authorization: Bearer <token>` (the scheme in any
 *   case) or `?token=<token>` (compared in constant time), whatever its `Host`;
 * - without a token (allowed on loopback only), a request passes only when its `Host` header names
 *   a loopback address, so a page of another site cannot read it through DNS rebinding.
 */
import { createHash, timingSafeEqual } from "node:crypto"
import type { IncomingMessage } from "node:http"

/** Whether `host` is an address of this machine only ("localhost" in any case, 127.0.0.0/8, ::1). */
export const isLoopback = (host: string): boolean => {
  const name = host.toLowerCase() // host names are case-insensitive: "LOCALHOST" is "localhost"
  return name === "localhost" || name === "::1" || name === "[::1]" || /^127(\.\d{1,3}){3}$/.test(name)
}

/** Whether `req` (whose parsed URL is `url`) may be answered. */
export const allowed = (req: IncomingMessage, url: URL, token: string | undefined): boolean => {
  if (token === undefined) return hostIsLoopback(req.headers.host)
  // the scheme's name is case-insensitive (RFC 9110): "bearer x" is "Bearer x"
  const bearer = /^bearer +(.*)$/i.exec(req.headers.authorization ?? "")?.[1]?.trim()
  const given = bearer ?? url.searchParams.get("token") ?? undefined
  return given !== undefined && sameSecret(given, token)
}

// ── private helpers ─────────────────────────────────────────────────────────

/**
 * `Host: 127.0.0.1:8080`, `localhost`, `[::1]:80` …: a name or bracketed address and an optional
 * port, nothing else (`[::1]evil.com`, `127.0.0.1:80@evil.com` are not loopback).
 */
const hostIsLoopback = (header: string | undefined): boolean => {
  const name = header === undefined ? undefined : hostHeader.exec(header)?.[1]
  return name !== undefined && isLoopback(name)
}

/** A `Host` header's shape (RFC 9110 `uri-host [ ":" port ]`): the name (or `[address]`), then the port. */
const hostHeader = /^(\[[^\]]+\]|[^:[\]@/]+)(?::\d*)?$/

/** Constant-time equality of two strings (through their digests, so lengths may differ). */
const sameSecret = (a: string, b: string): boolean =>
  timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest())
