/**
 * The HTTP server's own limits on sockets that have not yet sent a request (Node's server
 * timeouts). Invariants:
 * - a socket whose request headers have not all come `headersMillis` after it connected (or after
 *   its previous request) is answered 408 and closed, and one whose whole request has not come
 *   within `requestMillis` likewise: sockets that send nothing cannot hold the socket cap
 *   (`maxSockets`) for long, with or without a token;
 * - these bound how long a request takes to *arrive*, never how long a response lasts: an
 *   `/events` stream stays open for as long as the client reads it;
 * - Node checks them every `checkMillis`, so a socket is closed at most that much after its limit.
 */
import * as http from "node:http"

/** The limits (milliseconds); `headersMillis` ≤ `requestMillis`. Tests shorten them; nothing else changes them. */
export const serverTimeouts = { headersMillis: 5_000, requestMillis: 10_000, checkMillis: 1_000 }

/** A server answering with `handler`, holding at most `maxSockets` sockets (Node closes one beyond at once). */
export const makeServer = (handler: http.RequestListener, maxSockets: number): http.Server => {
  const server = http.createServer(
    {
      headersTimeout: serverTimeouts.headersMillis,
      requestTimeout: serverTimeouts.requestMillis,
      connectionsCheckingInterval: serverTimeouts.checkMillis
    },
    handler
  )
  server.maxConnections = maxSockets
  return server
}
