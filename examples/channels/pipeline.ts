/**
 * A pipeline: urls flow through `Chan.pipeline`, which runs at most 3 fetches at once and emits
 * the results in input order; a failed fetch is replaced by a placeholder (`onError`). Everything
 * runs in a `Scope`: when it closes, the pipeline's fibers stop.
 *
 * Run: `npx tsx --conditions=tributary:source examples/channels/pipeline.ts`
 */
import { Chan } from "@tributary/channel"
import { Effect, Option } from "effect"

/** Stands in for an HTTP GET: takes longer for longer paths, fails for "/broken". */
const fetchPage = (url: string) =>
  url.endsWith("/broken")
    ? Effect.fail(new Error(`GET ${url}: 500`))
    : Effect.as(Effect.sleep(`${url.length} millis`), `${url} (${url.length * 100} bytes)`)

const program = Effect.scoped(
  Effect.gen(function* () {
    const urls = yield* Chan.fromIterable([
      "https://example.com/a-long-article",
      "https://example.com/b",
      "https://example.com/broken",
      "https://example.com/c-medium"
    ])
    const pages = yield* Chan.make<string>(4)
    let inFlight = 0
    let maxInFlight = 0
    yield* Chan.pipeline(
      urls,
      pages,
      (url: string) =>
        Effect.gen(function* () {
          maxInFlight = Math.max(maxInFlight, ++inFlight)
          return yield* Effect.ensuring(
            fetchPage(url),
            Effect.sync(() => inFlight--)
          )
        }),
      { concurrency: 3, onError: (error, url) => Option.some(`${url} failed: ${error.message}`) }
    )
    for (const page of yield* Chan.toArray(pages)) yield* Effect.log(page)
    yield* Effect.log(`at most ${maxInFlight} fetches ran at once`)
  })
)

Effect.runFork(program)
