/**
 * The open `/events` (Server-Sent Events) connections, each with latest-value semantics so a slow
 * client costs bounded memory. Invariants:
 * - a connection is either free (its last write was accepted below the socket's high-water mark)
 *   or blocked (waiting for `drain`); a blocked one holds at most one `pending` message, replaced
 *   by each newer one (counted in `skipped`): what one client holds is at most the write that
 *   blocked it, the socket's high-water mark and one pending message, however slow it reads;
 * - messages are written whole, in publication order, and a connection that frees up gets the
 *   newest message it missed, never an older one;
 * - a new connection gets the latest message at once, then every later one;
 * - a message is rendered (serialized) at most once, and only when a connection takes it: with
 *   nobody watching, publishing costs nothing but keeping the last renderer (and the last message
 *   rendered);
 * - a message whose render gives `undefined` (it could not be made) is skipped: the connections
 *   keep what they have, a new one gets the last message that could be made, and the next
 *   message is sent as usual;
 * - at most `max` connections are open: `add` answers a request beyond them with a 503 (and a
 *   `Retry-After`), so many clients cost bounded memory and file handles;
 * - after `closeAll` every response has ended and `add` ends a new one at once.
 */
import type { ServerResponse } from "node:http"

/** How one connection fares: messages written, messages replaced unseen, bytes it holds now. */
export interface ConnectionStats {
  /** messages written to it, the latest one it got on connecting included */
  readonly sent: number
  /** messages it never got: each replaced by a newer one while its socket was full */
  readonly skipped: number
  /** bytes it holds now: its socket's unsent output plus its one pending message */
  readonly bufferedBytes: number
}

/** The set of connections and the latest message. */
export interface Connections {
  /** Takes over an `/events` response: sends the headers and the latest message, or a 503 when `max` are open. */
  readonly add: (res: ServerResponse) => void
  /**
   * Sends one SSE message (`render` frames it; `undefined`: it could not be made, skip it) to every
   * connection, latest-value per connection.
   */
  readonly publish: (render: () => string | undefined) => void
  /** How each open connection fares now. */
  readonly stats: () => ReadonlyArray<ConnectionStats>
  /** Ends every response; later connections are ended at once. */
  readonly closeAll: () => void
}

/**
 * An empty set of at most `max` connections; `retryMillis` is the reconnection delay the browser
 * is told to use.
 */
export const makeConnections = (retryMillis: number, max: number): Connections => {
  const open = new Set<Connection>()
  // the newest message rendered, and the renderer of a newer one not rendered yet
  let latest: string | undefined
  let render: (() => string | undefined) | undefined
  /** Renders the newest message if it is not yet; whether that made a new `latest`. */
  const renderNewest = (): boolean => {
    if (render === undefined) return false
    const next = render()
    render = undefined // tried once, made or not
    if (next === undefined) return false
    latest = next
    return true
  }
  let closed = false
  return {
    add: (res) => {
      if (open.size >= max) {
        res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "retry-after": "1" })
        res.end(`503: too many open event streams (maxConnections: ${max}); try again later\n`)
        return
      }
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-content-type-options": "nosniff"
      })
      if (closed) {
        res.end()
        return
      }
      const c: Connection = { res, pending: undefined, blocked: false, sent: 0, skipped: 0 }
      open.add(c)
      res.on("close", () => open.delete(c))
      res.write(`retry: ${retryMillis}\n\n`)
      renderNewest()
      if (latest !== undefined) send(c, latest)
    },
    publish: (next) => {
      render = next
      if (open.size === 0 || !renderNewest()) return
      for (const c of open) send(c, latest!)
    },
    stats: () =>
      Array.from(open, (c) => ({
        sent: c.sent,
        skipped: c.skipped,
        bufferedBytes: c.res.writableLength + (c.pending === undefined ? 0 : Buffer.byteLength(c.pending))
      })),
    closeAll: () => {
      closed = true
      for (const c of open) c.res.end()
      open.clear()
    }
  }
}

/** Frames `data` (JSON text: no raw newline) as one SSE message. */
export const frame = (data: string): string => `data: ${data}\n\n`

// ── private helpers ─────────────────────────────────────────────────────────

interface Connection {
  readonly res: ServerResponse
  pending: string | undefined
  blocked: boolean
  sent: number
  skipped: number
}

/** Writes `message` now, or keeps it as the one pending message of a blocked connection. */
const send = (c: Connection, message: string): void => {
  if (c.res.writableEnded || c.res.destroyed) return
  if (c.blocked) {
    if (c.pending !== undefined) c.skipped++
    c.pending = message
    return
  }
  c.sent++
  if (c.res.write(message)) return
  c.blocked = true
  c.res.once("drain", () => {
    c.blocked = false
    const next = c.pending
    c.pending = undefined
    if (next !== undefined) send(c, next)
  })
}
