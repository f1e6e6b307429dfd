/**
 * A plain HTTP client for the tests: one request read whole, and a Server-Sent Events reader that
 * keeps every event it parsed and lets a test wait for one (Promises on real sockets, no timers). Each request has its own connection (no keep-alive pool),
 * so a test sees exactly what the server does with it.
 */
import * as http from "node:http"
import * as net from "node:net"

/** A whole response. */
export interface Reply {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

/** GET `url` with `headers`, read whole. */
export const get = (url: string, headers: Record<string, string> = {}): Promise<Reply> =>
  new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => (body += chunk))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        res.on("error", reject)
      })
      .on("error", reject)
  })

/** GET `url`, resolved once the headers came; `rest` reads the body then (nothing is read before). */
export const headersOnly = (url: string): Promise<{ readonly status: number; readonly rest: () => Promise<string> }> =>
  new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        res.pause()
        resolve({
          status: res.statusCode ?? 0,
          rest: () =>
            new Promise((done, fail) => {
              const chunks: Array<Buffer> = []
              res.on("data", (chunk: Buffer) => chunks.push(chunk))
              res.on("end", () => done(Buffer.concat(chunks).toString("utf8")))
              res.on("error", fail)
              res.resume()
            })
        })
      })
      .on("error", reject)
  })

/** An open `/events` stream. */
export interface Events {
  readonly status: number
  /** every event's data, parsed, in order */
  readonly events: Array<any>
  /** every byte of data received */
  readonly text: () => string
  /** the first event (already received or to come) that `predicate` accepts */
  readonly waitFor: (predicate: (event: any) => boolean) => Promise<any>
  /** resolves when the connection has closed (by either side) */
  readonly closed: Promise<void>
  /** stops reading (the server's writes back up), and reads again */
  readonly pause: () => void
  readonly resume: () => void
  readonly close: () => void
}

/** Opens `url` as an event stream; resolves once the response headers arrived. */
export const openEvents = (url: string, headers: Record<string, string> = {}): Promise<Events> =>
  new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const events: Array<any> = []
      const waiters: Array<{ predicate: (e: any) => boolean; resolve: (e: any) => void }> = []
      let text = ""
      let buffer = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        text += chunk
        buffer += chunk
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = block
            .split("\n")
            .filter((line) => line.startsWith("data: "))
            .map((line) => line.slice("data: ".length))
          if (data.length === 0) continue
          const event = JSON.parse(data.join("\n"))
          events.push(event)
          for (const w of waiters.splice(0)) {
            if (w.predicate(event)) w.resolve(event)
            else waiters.push(w)
          }
        }
      })
      const closed = new Promise<void>((done) => res.on("close", () => done()))
      res.on("error", () => {})
      resolve({
        status: res.statusCode ?? 0,
        events,
        text: () => text,
        waitFor: (predicate) => {
          const found = events.find(predicate)
          return found !== undefined
            ? Promise.resolve(found)
            : new Promise((r) => waiters.push({ predicate, resolve: r }))
        },
        closed,
        pause: () => res.pause(),
        resume: () => res.resume(),
        close: () => req.destroy()
      })
    })
    req.on("error", reject)
  })

/** Sends `request` as raw bytes on a new connection; resolves with the response's status line ("" if closed unanswered). */
export const rawStatusLine = (port: number, request: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.off("error", reject)
      statusLineOn(socket, request).then(resolve)
    })
    socket.on("error", reject)
  })

/** Opens `count` connections one after the other (each connected before the next is opened). */
export const connectInOrder = async (port: number, count: number): Promise<Array<net.Socket>> => {
  const sockets: Array<net.Socket> = []
  for (let i = 0; i < count; i++)
    sockets.push(
      await new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect(port, "127.0.0.1", () => resolve(socket)).on("error", reject)
      })
    )
  return sockets
}

/** Sends `request` on a connected `socket`; resolves with the response's status line (what came, "" for nothing, if the socket closed or was reset first). */
export const statusLineOn = (socket: net.Socket, request: string): Promise<string> =>
  new Promise((resolve) => {
    socket.write(request)
    let text = ""
    socket.setEncoding("utf8")
    socket.on("data", (chunk: string) => {
      text += chunk
      const end = text.indexOf("\r\n")
      if (end >= 0) {
        socket.destroy()
        resolve(text.slice(0, end))
      }
    })
    socket.on("error", () => resolve(text))
    socket.on("close", () => resolve(text))
  })

/** Resolves once `condition` holds, checking it after each turn of the event loop (no timer). */
export const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await new Promise((r) => setImmediate(r))
}
