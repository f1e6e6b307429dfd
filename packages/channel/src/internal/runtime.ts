/**
 * The fiber runtime of the Effect API: the steps its operations run as (put, offer, take, poll,
 * select), how a suspended fiber waits on a channel and is resumed, and the select's timers on
 * effect's `Clock`. `operations.ts` builds the public operations on it.
 *
 * Invariants:
 * - a step completes an operation in the fiber's own step when it can (no suspension), and hands
 *   a value over only in the step that resumes its fiber, so an interrupt never lands between a
 *   value consumed and the caller getting it;
 * - a waiting fiber is resumed only from its node's callback, which the state machine runs once
 *   its change is done: at once for a taker handed a value (`resumeNow`, after the current step's
 *   hand-off), soon for the others (`resumeSoon`, `resumeWoken`); an interrupted wait withdraws
 *   its node first;
 * - a woken taker (`WAKE`) takes its value in its own step (`takeOwed`), or passes its turn on.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import { checkChan, notAChannel } from "./arguments.js"
import { type ChanCore, CLOSED, isChanCore, Node, PENDING, WAKE } from "./channel.js"
import type { SelectOptions } from "./ports.js"
import {
  checkCases,
  earliestTimeout,
  PUT,
  pickReady,
  SELECT_OPTIONS,
  type SelectCase as SelectCaseImpl,
  SelectRegistration,
  TAKE
} from "./select.js"
import {
  type Dispatcher,
  defineStep,
  handOff,
  handOffExit,
  type Next,
  NOT_NOW,
  NowThen,
  type StepFiber
} from "./step.js"
import { reportXform, reportXformWith, setStepReporter } from "./xformLog.js"

const exitTrue = Exit.succeed(true)
const exitFalse = Exit.succeed(false)
/** A callback that does nothing (a `putUnsafe` without `onDone`). */
export const ignore = (): void => {}

/** `Chan.close`: closes the channel, then logs the xform failures its completion step recorded. */
export const closeCore = (core: ChanCore<any, any>): Effect.Effect<void> =>
  Effect.suspend(() => {
    checkChan(core).close()
    return reportXform(core, Exit.void)
  })

/** The defect of an operation given something that is not a channel. */
export const dieNotAChannel = (ch: unknown): Effect.Effect<never> => Effect.die(notAChannel(ch))

/** A channel's `take` Effect, made once and kept on the channel (a take holds no state of its own). */
export const takeOf = (ch: unknown): Effect.Effect<unknown> => {
  if (!isChanCore(ch)) return dieNotAChannel(ch)
  return (ch.takeEffect = new TakeStep(ch)) as unknown as Effect.Effect<unknown>
}

/** A take's result as an `Option`: `None` once closed and drained. */
export const toOption = (result: unknown): Option.Option<any> =>
  result === CLOSED ? Option.none() : Option.some(result)

const exitNone = Exit.succeed(Option.none())
/** The `Exit` a take hands over: `None` (shared) once closed and drained, else `Some(value)`. */
const takeExit = (result: unknown): Exit.Exit<Option.Option<any>> =>
  result === CLOSED ? exitNone : Exit.succeed(Option.some(result))

/** Continues with the Effect a handler returned, or hands its plain value over in this step. */
const continueWith = (fiber: StepFiber, x: unknown): Next => (isEffect(x) ? x : handOff(fiber, x))

/** `Effect.isEffect` without its `dual` wrapper: a handler's result is checked once per select. */
const isEffect = (x: unknown): x is Effect.Effect<unknown, unknown, unknown> =>
  x !== null && (typeof x === "object" || typeof x === "function") && Effect.TypeId in x

// ── steps ──
// The operations themselves are steps (see internal/step.ts): each tries the synchronous path and,
// when it cannot complete now, continues with the waiting path. A result is handed over in the same
// step, so no interrupt can land between "consumed" and "handed over". A taker that the operation
// hands a value to directly is resumed synchronously, but only after the hand-off
// (`attempt`/`handOffThenResume`): nothing it does to this fiber (interrupt it, as a race does to
// its loser) can land in the middle of this fiber's operation.

/** Resumptions requested while a step is between its channel operation and its hand-off. */
const deferredResumes: Array<() => void> = []
let deferring = 0

/** How many fibers may be resumed inside one another before resumption goes through the scheduler. */
const MAX_NESTED_RESUMES = 32
let nestedResumes = 0

/**
 * Resumes a taker handed a value directly: at once, so that it observes the value before anything
 * else can happen to the channel (a later value, a close), or right after the current step's
 * hand-off; through the scheduler when resumptions already nest deeply (a chain of fibers waking
 * each other must not overflow the stack).
 */
const resumeNow = (dispatcher: Dispatcher, task: () => void): void => {
  if (deferring > 0) {
    deferredResumes.push(task)
    return
  }
  if (nestedResumes >= MAX_NESTED_RESUMES) {
    dispatcher.scheduleTask(task, 0)
    return
  }
  nestedResumes++
  try {
    task()
  } finally {
    nestedResumes--
  }
}

/**
 * Runs a step's channel operation `op(self)` with resumptions deferred (a static `op`: no closure
 * per call). If it throws (a user callback such as `onUndelivered`), the deferred resumptions still
 * run before the error propagates.
 */
const attempt = <S, R>(fiber: StepFiber, mark: number, op: (self: S) => R, self: S): R => {
  deferring++
  let completed = false
  try {
    const result = op(self)
    completed = true
    return result
  } finally {
    deferring--
    if (!completed) continueThenResume(fiber, mark, undefined)
  }
}

/**
 * A failure recorded inside a step's channel operation (a take that pulled a pending put through
 * the xform, say) is logged through that fiber's services with the resumptions deferred since the
 * step's `mark`: right after its hand-off, before the fiber's next effect (see `xformLog.ts`).
 */
setStepReporter((core) => {
  if (deferring === 0) return false
  const fiber = Fiber.getCurrent()
  if (fiber === undefined) return false
  const context = fiber.context
  deferredResumes.push(() => reportXformWith(core, context))
  return true
})

/** Hands `value` over, then runs the resumptions deferred since `mark`. */
const handOffThenResume = (fiber: StepFiber, mark: number, exit: Exit.Exit<unknown>): Next => {
  if (deferredResumes.length === mark) return handOffExit(fiber, exit)
  const tasks = deferredResumes.splice(mark)
  const next = handOffExit(fiber, exit)
  for (const task of tasks) resumeNow(fiber.currentDispatcher, task)
  return next
}

/** Continues with `next` (not a hand-off), then runs the resumptions deferred since `mark`. */
const continueThenResume = (fiber: StepFiber, mark: number, next: Next): Next => {
  if (deferredResumes.length === mark) return next
  for (const task of deferredResumes.splice(mark)) resumeNow(fiber.currentDispatcher, task)
  return next
}

/**
 * The end of a put or an offer that completed: `accepted` handed over, after the xform failures its
 * operation recorded are logged (`reportXform`), and then the resumptions deferred since `mark`.
 */
const putDone = (fiber: StepFiber, mark: number, core: ChanCore<any>, accepted: boolean): Next => {
  const exit = accepted ? exitTrue : exitFalse
  if (core.xformFailures !== undefined) return continueThenResume(fiber, mark, reportXform(core, exit))
  return handOffThenResume(fiber, mark, exit)
}

const putOp = (step: PutStep<any> | OfferStep<any>) => step.core.tryPut(step.value)
const takeOp = (step: TakeStep<any>) => step.core.tryTake()
const pollOp = (step: PollStep<any>) => step.core.tryPoll()
const takeOwedOp = (core: ChanCore<unknown, any>) => core.takeOwed()
const completeOwedOp = (c: SelectCaseImpl) => c.completeOwed()
const completeOp = (c: SelectCaseImpl) => c.complete()

export class PutStep<A> {
  constructor(
    readonly core: ChanCore<A>,
    readonly value: A
  ) {}
  run(fiber: StepFiber): Next {
    // the common case (room in a plain fixed buffer) resumes no one: nothing to defer
    if (this.core.putBuffered(this.value)) return handOffExit(fiber, exitTrue)
    const mark = deferredResumes.length
    const result = attempt(fiber, mark, putOp, this)
    if (result === PENDING) return waitPut(this.core, this.value, this, fiber)
    return putDone(fiber, mark, this.core, result)
  }
  now(): boolean | NOT_NOW {
    return this.core.putBuffered(this.value) ? true : NOT_NOW
  }
}
defineStep(PutStep)

export class OfferStep<A> {
  constructor(
    readonly core: ChanCore<A>,
    readonly value: A
  ) {}
  run(fiber: StepFiber): Next {
    const mark = deferredResumes.length
    // `PENDING` (it would have to wait) is `false`: an offer never waits
    return putDone(fiber, mark, this.core, attempt(fiber, mark, putOp, this) === true)
  }
  now(): boolean | NOT_NOW {
    return this.core.putBuffered(this.value) ? true : NOT_NOW
  }
}
defineStep(OfferStep)

class TakeStep<A> {
  constructor(readonly core: ChanCore<unknown, A>) {}
  run(fiber: StepFiber): Next {
    // the common case (a value in a plain fixed buffer, no pending put) resumes no one
    const value = this.core.takeBuffered()
    if (value !== PENDING) return handOffExit(fiber, Exit.succeed(Option.some(value)))
    const mark = deferredResumes.length
    const result = attempt(fiber, mark, takeOp, this)
    if (result === PENDING) return waitTake(this.core, this, fiber)
    return handOffThenResume(fiber, mark, takeExit(result))
  }
  now(): Option.Option<A> | NOT_NOW {
    const value = this.core.takeBuffered()
    return value === PENDING ? NOT_NOW : Option.some(value)
  }
}
defineStep(TakeStep)

export class PollStep<A> {
  constructor(readonly core: ChanCore<unknown, A>) {}
  run(fiber: StepFiber): Next {
    const mark = deferredResumes.length
    const result = attempt(fiber, mark, pollOp, this)
    return handOffThenResume(fiber, mark, result === PENDING ? exitNone : takeExit(result))
  }
  now(): Option.Option<A> | NOT_NOW {
    const value = this.core.takeBuffered()
    return value === PENDING ? NOT_NOW : Option.some(value)
  }
}
defineStep(PollStep)

/** A step running a closure: for the waiting paths, where one allocation more does not matter. */
class ThunkStep {
  constructor(readonly f: (fiber: StepFiber) => Next) {}
  run(fiber: StepFiber): Next {
    return this.f(fiber)
  }
}
defineStep(ThunkStep)
const thunkStep = <A, E = never, R = never>(f: (fiber: StepFiber) => Next): Effect.Effect<A, E, R> =>
  new ThunkStep(f) as unknown as Effect.Effect<A, E, R>

// ── waiting ──
// A waiter registered in `Effect.callback` never completes its operation inside the registration:
// if the channel became ready since the step's first try, it resumes with the step itself, which
// runs again in the fiber's own step.
//
// A committed putter, and a taker woken to take from a fixed buffer, are resumed in a microtask
// (`resumeSoon`), never inside the step of the fiber that committed them: that fiber first runs on
// until it suspends, so a producer keeps filling a buffer and the consumer drains it in a batch,
// and nothing the resumed fiber does can land in the middle of the committing fiber's operation.
// Every 1024th resumption goes through effect's scheduler instead, so fibers that keep waking each
// other cannot starve timers and I/O. Woken takers (`resumeWoken`) come back in the order they were
// woken, which is line order: when one of them is sent through the scheduler, the woken takers after
// it, until the scheduler has run it, wait with it there (in order), so that a consumer sent there
// is not overtaken by the others again and again. A taker handed a value directly is resumed at
// once (`resumeNow`), so it observes the value before anything else happens to the channel.

let resumptions = 0
/** Woken takers waiting for one run through effect's scheduler, in wake-up order (usually none). */
let wokenViaScheduler: Array<() => void> = []

/** Resumes a committed putter (or a select that won a put or timeout case) soon. */
const resumeSoon = (dispatcher: Dispatcher, task: () => void): void => {
  if ((++resumptions & 1023) === 0) dispatcher.scheduleTask(task, 0)
  else queueMicrotask(task)
}

/** Resumes a taker woken by `WAKE` soon, after the takers woken before it. */
const resumeWoken = (dispatcher: Dispatcher, task: () => void): void => {
  if (wokenViaScheduler.length > 0) wokenViaScheduler.push(task)
  else if ((++resumptions & 1023) === 0) {
    wokenViaScheduler.push(task)
    dispatcher.scheduleTask(runWokenViaScheduler, 0)
  } else queueMicrotask(task)
}

/** Runs the woken takers that waited for the scheduler; those woken meanwhile are microtasks (run after). */
const runWokenViaScheduler = (): void => {
  const tasks = wokenViaScheduler
  wokenViaScheduler = []
  let i = 0
  try {
    for (; i < tasks.length; i++) tasks[i]()
  } finally {
    // a task threw: the ones after it still run
    for (let j = i + 1; j < tasks.length; j++) queueMicrotask(tasks[j])
  }
}

/**
 * Below this `MaxOpsBeforeYield`, a waiter is withdrawn on the callback's abort signal, which fires
 * synchronously on interruption. Above it, effect runs the callback's cleanup Effect within the
 * first operations after the interrupt, before any yield, which is as synchronous and cheaper (an
 * `AbortController` per suspension costs more than the whole operation).
 */
const SIGNAL_BELOW_MAX_OPS = 16

/**
 * Registers `cancel` as the waiter's withdrawal: returns the cleanup Effect, or listens on the abort
 * signal when the fiber may yield before running a cleanup Effect.
 */
const onInterrupt = (fiber: StepFiber, signal: AbortSignal, cancel: () => void): Effect.Effect<void> | undefined => {
  if (fiber.cache.maxOpsBeforeYield >= SIGNAL_BELOW_MAX_OPS) return Effect.sync(cancel)
  signal.addEventListener("abort", cancel, { once: true })
  return undefined
}

/**
 * The slow path of `put`. The putter is resumed once a taker (or the buffer) has its value; it is
 * withdrawn on interruption before any taker can take the value.
 */
const waitPut = <A>(core: ChanCore<A>, value: A, step: PutStep<A>, fiber: StepFiber): Effect.Effect<boolean> =>
  callbackWithSignal<boolean>(fiber, (resume, signal) => {
    if (core.canPut()) return resume(step as unknown as Effect.Effect<boolean>)
    const node = new Node(value, (accepted: boolean) => {
      const exit = accepted ? exitTrue : exitFalse
      resumeSoon(fiber.currentDispatcher, () => resume(exit))
    })
    core.enqueuePut(node)
    return onInterrupt(fiber, signal, () => core.withdraw(node))
  })

/**
 * The slow path of `take`. On a fixed buffer it waits as a waking take: woken, it takes again in its
 * own step, so the value leaves the buffer in the step that hands it over. Elsewhere the value is
 * handed to the waiter; if it is interrupted before it observed it, its finalizer gives the value
 * back (`requeue`).
 */
const waitTake = <A>(
  core: ChanCore<unknown, A>,
  step: TakeStep<A>,
  fiber: StepFiber
): Effect.Effect<Option.Option<A>> =>
  callbackWithSignal<Option.Option<A>>(fiber, (resume, signal) => {
    if (core.canTake()) return resume(step as unknown as Effect.Effect<Option.Option<A>>)
    const waiter = new TakeWaiter<A>(core, step, fiber.currentDispatcher, resume)
    core.enqueueTake(waiter.node)
    return onInterrupt(fiber, signal, () => waiter.cancel())
  })

/**
 * `Effect.callback`, with the abort signal only when `onInterrupt` will use it (effect allocates an
 * `AbortController` for a registration function of two parameters).
 */
const callbackWithSignal = <A, E = never, R = never>(
  fiber: StepFiber,
  register: (resume: (effect: Effect.Effect<A, E, R>) => void, signal: AbortSignal) => Effect.Effect<void> | void
): Effect.Effect<A, E, R> =>
  fiber.cache.maxOpsBeforeYield >= SIGNAL_BELOW_MAX_OPS
    ? Effect.callback<A, E, R>((resume) => register(resume, neverAborted))
    : Effect.callback<A, E, R>((resume, signal) => register(resume, signal))

const neverAborted = new AbortController().signal

class TakeWaiter<A> {
  readonly node: Node
  private value: A | CLOSED | WAKE = CLOSED
  /** Woken, and not yet back to take. */
  private woken = false
  private observed = false

  constructor(
    private readonly core: ChanCore<unknown, A>,
    private readonly step: TakeStep<A>,
    dispatcher: Dispatcher,
    private readonly resume: (effect: Effect.Effect<Option.Option<A>>) => void
  ) {
    this.node = new Node(
      undefined,
      (value: A | CLOSED | WAKE) => {
        this.value = value
        if (value === WAKE) {
          this.woken = true
          resumeWoken(dispatcher, this.wakeRetry)
        } else resumeNow(dispatcher, this.wakeObserve)
      },
      undefined,
      core.wakesTakers
    )
  }

  private readonly wakeObserve = (): void => this.resume(this.observe)
  private readonly wakeRetry = (): void => this.resume(this.retry)

  private readonly observe = thunkStep<Option.Option<A>>((fiber) => {
    this.observed = true
    return handOff(fiber, toOption(this.value))
  })

  /** Runs in the taker's own step after `WAKE`: takes the value owed to it. */
  private readonly retry = thunkStep<Option.Option<A>>((fiber) => {
    this.woken = false
    const mark = deferredResumes.length
    const result = attempt(fiber, mark, takeOwedOp, this.core)
    // PENDING only if `discard` emptied the buffer meanwhile and the channel is open (never: it closes)
    if (result === PENDING) return continueThenResume(fiber, mark, waitTake(this.core, this.step, fiber))
    return handOffThenResume(fiber, mark, takeExit(result))
  })

  /** The finalizer: withdraw the node, pass on an unused wake-up, or give back an unobserved value. */
  cancel(): void {
    if (this.node.active) this.core.withdraw(this.node)
    else if (this.woken) {
      this.woken = false
      this.core.wokenTakerWithdrawn()
    } else if (!this.observed && this.value !== CLOSED && this.value !== WAKE) this.core.requeue(this.value)
  }
}

/** Continues with a case's handler result; put cases report xform errors first. */
const completeCase = (fiber: StepFiber, c: SelectCaseImpl, x: unknown): Next => {
  if (c.kind === PUT && c.core!.xformFailures !== undefined) return reportXform(c.core!, toEffect(x))
  return continueWith(fiber, x)
}

/** Completes a ready case now (its channel operation and handler) and continues with the result. */
const runReady = (fiber: StepFiber, c: SelectCaseImpl): Next => {
  const mark = deferredResumes.length
  const x = attempt(fiber, mark, completeOp, c)
  return continueThenResume(fiber, mark, completeCase(fiber, c, x))
}

const toEffect = (x: unknown): Effect.Effect<unknown, unknown, unknown> => (isEffect(x) ? x : Effect.succeed(x))

export class SelectStep {
  constructor(
    readonly cases: ReadonlyArray<SelectCaseImpl>,
    readonly options: SelectOptions<unknown> | undefined
  ) {}
  run(fiber: StepFiber): Next {
    const cases = this.cases
    const invalid = checkCases(cases, this.options, SELECT_OPTIONS, toOption)
    if (invalid !== undefined) return Effect.die(invalid)
    const orElse = this.options?.orElse
    const priority = this.options?.priority === true
    const ready = pickReady(cases, priority)
    if (ready !== undefined) return runReady(fiber, ready)
    if (orElse !== undefined) return continueWith(fiber, orElse())
    return waitSelect(cases, priority, fiber)
  }
  /**
   * The common case at once: the chosen ready case takes a buffered value nobody waits for. A ready
   * case it cannot complete here (a put, a timeout, a take that is not of a plain buffered value)
   * is the one the step then runs, if still ready (`ChosenCase`): drawing again there would give
   * the cases completed here a second chance, so a buffered take beat a put with room 3 times in 4.
   */
  now(): unknown {
    const cases = this.cases
    if (checkCases(cases, this.options, SELECT_OPTIONS, toOption) !== undefined) return NOT_NOW
    const c = pickReady(cases, this.options?.priority === true)
    if (c === undefined) return NOT_NOW
    if (c.kind !== TAKE) return new NowThen(new ChosenCase(this, c) as unknown as Effect.Effect<unknown>)
    const value = c.core!.takeBuffered()
    if (value === PENDING) return new NowThen(new ChosenCase(this, c) as unknown as Effect.Effect<unknown>)
    let x: unknown
    try {
      x = c.handler(c.present(value))
    } catch (error) {
      return new NowThen(Exit.die(error))
    }
    return isEffect(x) ? new NowThen(x) : x
  }
}
defineStep(SelectStep)

/**
 * A select whose `now` drew a ready case it could not complete at once: the step runs that case if
 * it is still ready, else the whole select again (its cases may have changed since the draw).
 */
class ChosenCase {
  constructor(
    readonly select: SelectStep,
    readonly chosen: SelectCaseImpl
  ) {}
  run(fiber: StepFiber): Next {
    return this.chosen.isReady() ? runReady(fiber, this.chosen) : this.select.run(fiber)
  }
}
defineStep(ChosenCase)

/**
 * The slow path of `select`: registers every channel case; the earliest timeout case runs in a
 * child fiber (on effect's `Clock`) that is interrupted when the select ends.
 */
const waitSelect = (
  cases: ReadonlyArray<SelectCaseImpl>,
  priority: boolean,
  fiber: StepFiber
): Effect.Effect<unknown, unknown, unknown> => {
  const waiter = new SelectWaiter(cases, priority, fiber)
  const timer = earliestTimeout(cases)
  if (timer === undefined) return waiter.wait
  return Effect.flatMap(
    Effect.forkChild(
      Clock.clockWith((clock) =>
        Effect.andThen(
          clock.sleep(Duration.millis(timer.millis)),
          Effect.sync(() => waiter.fireTimeout(timer))
        )
      )
    ),
    (fiber) => Effect.onExit(waiter.wait, () => Fiber.interrupt(fiber))
  )
}

/**
 * A select waiting on its cases. A waking take case that wins with `WAKE` makes the select poll
 * again in its own step (and wait again, with the same timer, if the value was taken meanwhile).
 */
class SelectWaiter {
  private registration: SelectRegistration | undefined
  private resume: ((effect: Effect.Effect<unknown, unknown, unknown>) => void) | undefined
  private observed = false
  /** A waking take case won with `WAKE` and the select has not polled again yet. */
  private woken = false
  /** The timeout case whose timer fired while no registration was live. */
  private expired: SelectCaseImpl | undefined

  private readonly dispatcher: Dispatcher

  constructor(
    private readonly cases: ReadonlyArray<SelectCaseImpl>,
    private readonly priority: boolean,
    fiber: StepFiber
  ) {
    this.dispatcher = fiber.currentDispatcher
    this.wait = callbackWithSignal<unknown, unknown, unknown>(fiber, (resume, signal) => {
      // ready since the last poll: poll again in the fiber's own step
      if (this.expired !== undefined || pickReady(this.cases, true) !== undefined) return resume(this.poll)
      this.resume = resume
      const registration = new SelectRegistration()
      this.registration = registration
      registration.register(this.cases, () => this.onCommit(registration), true)
      return onInterrupt(fiber, signal, () => this.cancel(registration))
    })
  }

  readonly wait: Effect.Effect<unknown, unknown, unknown>

  /** Polls the cases in the select's own step: runs a ready one (or the expired timeout), or waits again. */
  private readonly poll = thunkStep<unknown, unknown, unknown>((fiber) => {
    const ready = pickReady(this.cases, this.priority) ?? this.expired
    return ready !== undefined ? runReady(fiber, ready) : this.wait
  })

  private onCommit(registration: SelectRegistration): void {
    if (registration.result === WAKE) {
      this.woken = true
      resumeWoken(this.dispatcher, this.wakeRetry)
      return
    }
    // a take case handed a value observes it at once (see `resumeNow`); a put case soon (see `waitPut`)
    if (registration.winner!.kind === TAKE) resumeNow(this.dispatcher, this.wakeObserve)
    else resumeSoon(this.dispatcher, this.wakeObserve)
  }

  private readonly wakeObserve = (): void => this.resume!(this.observe)
  private readonly wakeRetry = (): void => this.resume!(this.retry)

  /** Runs in the select's own fiber: only from here on has it seen the winning result. */
  private readonly observe = thunkStep<unknown, unknown, unknown>((fiber) => {
    this.observed = true
    const registration = this.registration!
    const winner = registration.winner!
    return completeCase(fiber, winner, winner.deliver(registration.result))
  })

  /** Runs in the select's own fiber after `WAKE`: the winning case takes the value owed to it. */
  private readonly retry = thunkStep<unknown, unknown, unknown>((fiber) => {
    this.woken = false
    const winner = this.registration!.winner!
    const mark = deferredResumes.length
    const x = attempt(fiber, mark, completeOwedOp, winner)
    return continueThenResume(fiber, mark, completeCase(fiber, winner, x))
  })

  /** The timer fired: the timeout case wins unless a channel case already did. */
  fireTimeout(c: SelectCaseImpl): void {
    const registration = this.registration
    if (registration === undefined || !registration.active) {
      // not registered yet, or this registration is spent (woken to poll again, possibly about to
      // register anew — the fiber can yield in between): the next poll finds it
      this.expired = c
      return
    }
    if (registration.expire(c)) resumeSoon(this.dispatcher, this.wakeObserve)
  }

  /** The finalizer: withdraw every node, or undo a win the fiber never saw. */
  private cancel(registration: SelectRegistration): void {
    if (registration.withdraw() || this.observed) return
    if (registration.result !== WAKE || this.woken) {
      this.woken = false
      registration.giveBack()
    }
  }
}
