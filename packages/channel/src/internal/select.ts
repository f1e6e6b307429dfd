/**
 * The part of `select` (core.async `alts`) shared by the Effect API and the Promise facade: the
 * cases, the ready check, and the registration of one node per channel case under one shared flag
 * (Go's select.go: poll in random order, then enqueue on every channel; the first commit wins and
 * the losers are removed at once).
 *
 * @internal
 */
import { ChanArgumentError } from "../ChanError.js"
import { notAChannel, optionError, optionsError } from "./arguments.js"
import { type ChanCore, CLOSED, commit, isChanCore, Node, SelectFlag, WAKE } from "./channel.js"
import { checkDuration } from "./time.js"

export const TAKE = 0
export const PUT = 1
export const TIMEOUT = 2

/** One case of a select. `present` turns a take's raw result (a value or `CLOSED`) into what the handler gets. */
export class SelectCase {
  constructor(
    readonly kind: typeof TAKE | typeof PUT | typeof TIMEOUT,
    readonly core: ChanCore | undefined,
    readonly value: unknown,
    readonly handler: (result?: any) => unknown,
    readonly present: (raw: unknown) => unknown,
    readonly millis: number,
    readonly error: ChanArgumentError | undefined
  ) {}

  /** Whether this case can complete now (without changing anything). */
  isReady(): boolean {
    if (this.kind === TAKE) return this.core!.canTake()
    if (this.kind === PUT) return this.core!.canPut()
    return this.millis === 0
  }

  /** Completes this case now and returns its handler's result. Precondition: `isReady()` in this same step. */
  complete(): unknown {
    if (this.kind === TAKE) return this.handler(this.present(this.core!.tryTake()))
    if (this.kind === PUT) return this.handler(this.core!.tryPut(this.value) === true)
    return this.handler()
  }

  /**
   * Completes a take case whose node was woken (`WAKE`): takes the value owed to it and returns its
   * handler's result. Precondition: a take case, woken and not returned (see `ChanCore.takeOwed`).
   */
  completeOwed(): unknown {
    return this.handler(this.present(this.core!.takeOwed()))
  }

  /** Calls the handler with the raw result a registered node received. */
  deliver(raw: unknown): unknown {
    if (this.kind === TAKE) return this.handler(this.present(raw))
    if (this.kind === PUT) return this.handler(raw)
    return this.handler()
  }
}

/**
 * A timeout case of `millis` (a duration the API took from the user). A bad duration is kept in the
 * case, so that the select fails with it (building a case never throws).
 */
export const timeoutCase = (
  argument: string,
  duration: Parameters<typeof checkDuration>[1],
  handler: () => unknown,
  present: (raw: unknown) => unknown,
  millisOnly = false
): SelectCase => {
  try {
    // the Promise facade takes milliseconds only: its "ms" is no duration string, and a bigint
    // would be read as nanoseconds
    if (millisOnly && typeof duration !== "number")
      throw new ChanArgumentError(argument, duration, "a number of milliseconds (>= 0, or Infinity)")
    const millis = checkDuration(argument, duration)
    return new SelectCase(TIMEOUT, undefined, undefined, handler, present, millis, badHandler("onTimeout", handler))
  } catch (error) {
    return new SelectCase(TIMEOUT, undefined, undefined, handler, present, 0, error as ChanArgumentError)
  }
}

/**
 * A take or put case on `ch` (an argument the API took from the user). A value that is not a
 * channel, or a handler that is not a function, is kept in the case as its error, as in `timeoutCase`.
 */
export const channelCase = (
  kind: typeof TAKE | typeof PUT,
  ch: unknown,
  value: unknown,
  handler: (result?: any) => unknown,
  present: (raw: unknown) => unknown
): SelectCase => {
  if (!isChanCore(ch)) return new SelectCase(kind, undefined, value, handler, present, 0, notAChannel(ch))
  const error = badHandler(kind === TAKE ? "onTake" : "onPut", handler)
  return new SelectCase(kind, ch, value, handler, present, 0, error)
}

/** The error for a case's handler that is not a function. */
const badHandler = (caseName: string, handler: unknown): ChanArgumentError | undefined =>
  typeof handler === "function" ? undefined : new ChanArgumentError(`${caseName} handler`, handler, "a function")

/** The options of the Effect API's `select`. */
export const SELECT_OPTIONS: ReadonlyArray<string> = ["priority", "orElse"]

/**
 * The first problem with a select's arguments (not an array; options that are not an object, or
 * have a key not among `known`, a `priority` that is not a boolean, an `orElse` that is not a
 * function; a foreign or bad case, or one of the other API: its `present` is not this select's;
 * no case without `orElse`), if any. The options are looked at
 * only when given.
 */
export const checkCases = (
  cases: ReadonlyArray<unknown>,
  options: { readonly priority?: boolean; readonly orElse?: unknown } | undefined,
  known: ReadonlyArray<string>,
  present: (raw: unknown) => unknown
): ChanArgumentError | undefined => {
  if (!Array.isArray(cases)) return new ChanArgumentError("select cases", cases, "an array of cases")
  let orElse: unknown
  if (options !== undefined) {
    const invalid =
      optionsError("select", options, known) ?? optionError("select priority", options.priority, "boolean")
    if (invalid !== undefined) return invalid
    orElse = options.orElse
    if (orElse !== undefined && typeof orElse !== "function") {
      return new ChanArgumentError("select orElse", orElse, "a function")
    }
  }
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]
    if (!(c instanceof SelectCase)) {
      return new ChanArgumentError(`select case ${i}`, c, "a case made by onTake, onPut or onTimeout")
    }
    if (c.error !== undefined) return c.error
    // a case of the other API would hand its handler the other API's result (an Option for
    // `{ done, value }`), and a facade handler's Effect would never run
    if (c.present !== present) {
      return new ChanArgumentError(
        `select case ${i}`,
        c,
        "a case made by the onTake, onPut or onTimeout of the same API as this select (Chan.select takes Chan.onTake…; the select of @tributary/channel/async takes its own onTake…)"
      )
    }
  }
  if (cases.length === 0 && orElse === undefined) {
    return new ChanArgumentError("select cases", cases, "at least one case, or the orElse option")
  }
  return undefined
}

/**
 * The ready case: a fair choice (each ready case with equal odds: one random draw among the ready
 * ones, found by a second pass, since `isReady` changes nothing), or the first with `priority`.
 */
export const pickReady = (cases: ReadonlyArray<SelectCase>, priority: boolean): SelectCase | undefined => {
  let ready = 0
  let last: SelectCase | undefined
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]
    if (!c.isReady()) continue
    if (priority) return c
    ready++
    last = c
  }
  if (ready <= 1) return last
  let skip = Math.floor(Math.random() * ready)
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]
    if (c.isReady() && skip-- === 0) return c
  }
  return last
}

/** The earliest finite timeout case, if any (its timer is the only one a select needs). */
export const earliestTimeout = (cases: ReadonlyArray<SelectCase>): SelectCase | undefined => {
  let earliest: SelectCase | undefined
  for (const c of cases) {
    if (c.kind === TIMEOUT && c.millis !== Infinity && (earliest === undefined || c.millis < earliest.millis)) {
      earliest = c
    }
  }
  return earliest
}

/**
 * A select waiting on its channels: one node per channel case, all under one flag. Exactly one of
 * a channel commit or `expire` wins; `withdraw` undoes the registration if neither has.
 */
export class SelectRegistration {
  private readonly flag = new SelectFlag()
  winner: SelectCase | undefined = undefined
  /** The winner's raw result: a taken value or `CLOSED`, or a put's `accepted`. */
  result: unknown = undefined

  /**
   * Enqueues a node on every channel case; `onCommit` runs once, after a channel commits one. With
   * `wakeTakes`, take cases on ring-buffered channels wait as waking takes (a `WAKE` result means:
   * select again). A take case queued behind woken takers may commit during registration (then
   * `onCommit` has run and nothing stays registered when this returns). Precondition: no case was
   * ready in this same step. Throws `ChanPendingLimitError` with nothing left registered.
   */
  register(cases: ReadonlyArray<SelectCase>, onCommit: () => void, wakeTakes: boolean): void {
    const nodes = this.flag.nodes
    try {
      for (const c of cases) {
        if (c.kind === TIMEOUT) continue
        const node = new Node(
          c.value,
          (result: unknown) => {
            this.winner = c
            this.result = result
            onCommit()
          },
          this.flag,
          wakeTakes && c.kind === TAKE && c.core!.wakesTakers
        )
        if (c.kind === TAKE) c.core!.enqueueTake(node)
        else c.core!.enqueuePut(node)
        // a take queued behind woken takers may be served at once: the select is over
        if (!this.flag.active) return
        nodes.push(node)
      }
    } catch (error) {
      this.withdraw()
      throw error
    }
  }

  /** Whether no case has won yet. */
  get active(): boolean {
    return this.flag.active
  }

  /** Makes the timeout case `c` the winner; `false` if a case already won. */
  expire(c: SelectCase): boolean {
    if (!this.flag.active) return false
    const first = this.flag.nodes[0]
    if (first !== undefined) commit(first)
    else this.flag.active = false
    this.winner = c
    return true
  }

  /** Removes every node if no case has won; `false` if one had. */
  withdraw(): boolean {
    if (!this.flag.active) return false
    this.flag.active = false
    for (const node of this.flag.nodes) node.queue?.remove(node)
    return true
  }

  /**
   * Undoes a win its owner will never see: passes on the wake-up a waking take case received, or
   * gives back the value a take case was handed.
   */
  giveBack(): void {
    const c = this.winner
    if (c === undefined || c.kind !== TAKE || this.result === CLOSED) return
    if (this.result === WAKE) c.core!.wokenTakerWithdrawn()
    else c.core!.requeue(this.result)
  }
}
