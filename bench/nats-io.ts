/**
 * The I/O of `nats.ts`'s jobs that wait: a node:http server (in the driving process) that answers
 * each `GET /<n>` with `n` after a fixed delay, and the GET that the job body of both peers makes
 * (`get`, the same function in our workers and in BullMQ's); `getAll`, the same GETs made by one
 * process with no queue at all: the floor on the machine at that moment.
 *
 * Invariants: the server answers every request, after at least `delayMillis` (a timer); it counts
 * the requests it answered and the time it held them, so the driver can check that each job made
 * exactly one GET and say how long the wait really was; each worker process uses one keep-alive
 * agent (no connection set up per job); a reply that is not 200 rejects the GET.
 */
import { Agent, createServer, get as httpGet } from "node:http"

/** how long the server holds each request (ms): the jobs' I/O wait */
export const IO_DELAY_MILLIS = 20

/** one keep-alive agent per process, no socket limit (the job concurrency is the bound) */
const agent = new Agent({ keepAlive: true })

/** `GET url`; resolves with the number the server answered. */
export const get = (url: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const request = httpGet(url, { agent }, (response) => {
      let body = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => {
        body += chunk
      })
      response.on("error", reject)
      response.on("end", () =>
        response.statusCode === 200 ? resolve(Number(body)) : reject(new Error(`GET ${url}: ${response.statusCode}`))
      )
    })
    request.on("error", reject)
  })

/**
 * The floor of the jobs that wait, without a queue: `jobs` GETs (`<url>/0` …) from this process,
 * `concurrency` at a time; resolves with the ms from the first to the last answer.
 */
export const getAll = async (url: string, jobs: number, concurrency: number): Promise<number> => {
  const t0 = performance.now()
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < jobs) await get(`${url}/${next++}`)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs) }, lane))
  return performance.now() - t0
}

export interface IoServer {
  /** `http://127.0.0.1:<port>`; a job GETs `<url>/<n>` */
  readonly url: string
  /** requests answered so far */
  readonly served: () => number
  /** their total time from arrival to answer so far (ms) */
  readonly heldMillis: () => number
  readonly close: () => Promise<void>
}

/** Starts the server on a free loopback port. */
export const startIoServer = (delayMillis: number): Promise<IoServer> =>
  new Promise((resolve, reject) => {
    let served = 0
    let held = 0
    const server = createServer((request, response) => {
      const arrived = performance.now()
      setTimeout(() => {
        served++
        held += performance.now() - arrived
        response.end((request.url ?? "/").slice(1))
      }, delayMillis)
    })
    server.keepAliveTimeout = 60_000
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      resolve({
        url: `http://127.0.0.1:${port}`,
        served: () => served,
        heldMillis: () => held,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })
