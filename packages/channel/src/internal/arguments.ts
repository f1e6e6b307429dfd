/**
 * Checking what users pass in, shared by the Effect API and the Promise facade: buffer arguments
 * and channel options (durations: `time.ts`).
 *
 * @internal
 */
import { knownOption } from "@tributary/arguments"
import { type BufferSpec, isBuffer } from "../Buffer.js"
import { ChanArgumentError } from "../ChanError.js"
import { isXform } from "../Xform.js"
import { type Buf, RingBuffer } from "./buffer.js"
import { type CoreOptions, isChanCore } from "./channel.js"
import type { Options, XformOptions } from "./ports.js"

/**
 * The buffer for a buffer argument (`undefined`: unbuffered); throws `ChanArgumentError` naming
 * `argument` (e.g. `"Chan.make buffer"`) for a bad one.
 */
export const makeBuffer = (argument: string, buffer: BufferSpec): Buf<any> | undefined => {
  if (typeof buffer === "number") {
    if (!Number.isInteger(buffer) || buffer < 0) {
      throw new ChanArgumentError(`${argument} size`, buffer, "an integer >= 0 (0 means unbuffered)")
    }
    return buffer === 0 ? undefined : new RingBuffer("fixed", buffer)
  }
  if (isBuffer(buffer)) return new RingBuffer(buffer.policy, buffer.capacity)
  throw new ChanArgumentError(argument, buffer, "a size (integer >= 0) or a Buffer")
}

/** Throws `ChanArgumentError` unless `ch` is a channel of this library (any constructor, either API). */
export const checkChan = <C>(ch: C, argument = "channel"): C => {
  if (!isChanCore(ch)) throw notAChannel(ch, argument)
  return ch
}

/** The error for a channel argument that is not a channel. */
export const notAChannel = (value: unknown, argument = "channel"): ChanArgumentError =>
  new ChanArgumentError(argument, value, "a channel (made by Chan.make, Chan.makeUnsafe or chan)")

/** Throws `ChanArgumentError` naming `argument` unless `it` is iterable. */
export const checkIterable = <I>(argument: string, it: I): I => {
  if (typeof (it as Partial<Iterable<unknown>> | undefined)?.[Symbol.iterator] !== "function") {
    throw new ChanArgumentError(argument, it, "an iterable")
  }
  return it
}

/** Throws `ChanArgumentError` naming `argument` unless `f` is a function. */
export const checkFunction = <F>(argument: string, f: F): F => {
  if (typeof f !== "function") throw new ChanArgumentError(argument, f, "a function")
  return f
}

/**
 * The check of every options argument and every boolean option of the public API: `undefined` (not
 * given) passes; otherwise an options argument (`"object"`) must be an object (not an array), a
 * boolean option (`"boolean"`) a boolean. Returns the error naming `argument` and the value, or
 * `undefined`; for the Promise facade, which rejects with it (`checkOption` throws it).
 */
export const optionError = (
  argument: string,
  value: unknown,
  kind: "object" | "boolean"
): ChanArgumentError | undefined => {
  if (value === undefined) return undefined
  if (kind === "boolean")
    return typeof value === "boolean" ? undefined : new ChanArgumentError(argument, value, "a boolean")
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? undefined
    : new ChanArgumentError(argument, value, "an object")
}

/** `value` if `optionError` finds nothing wrong with it; throws its `ChanArgumentError` otherwise. */
export const checkOption = <V>(argument: string, value: V, kind: "object" | "boolean"): V => {
  const error = optionError(argument, value, kind)
  if (error !== undefined) throw error
  return value
}

/**
 * The error for an options argument (`caller`'s) that is not an object or has a key not among
 * `known` (a misspelt option would be ignored: `onUndelivred` never reports a dropped value), or
 * `undefined`: the options (when given) pass. The unknown key's error names `caller` and the key,
 * shows its value, lists the known options and says which one was meant when one is close. For the
 * Promise facade, which rejects with it (`checkOptionsArgument` throws it). Callers look only at
 * options given, so an operation called without options pays nothing for it.
 */
export const optionsError = (
  caller: string,
  options: unknown,
  known: ReadonlyArray<string>
): ChanArgumentError | undefined => {
  const invalid = optionError(`${caller} options`, options, "object")
  if (invalid !== undefined || options === undefined) return invalid
  for (const key in options as object) {
    if (known.includes(key)) continue
    return new ChanArgumentError(`${caller} ${key}`, (options as Record<string, unknown>)[key], knownOption(key, known))
  }
  return undefined
}

/** `options` if `optionsError` finds nothing wrong with them; throws its `ChanArgumentError` otherwise. */
export const checkOptionsArgument = <O>(caller: string, options: O, known: ReadonlyArray<string>): O => {
  const error = optionsError(caller, options, known)
  if (error !== undefined) throw error
  return options
}

/** The options of the functions whose only option is `close` (`pipe`, `onto`, `Mult.tap`, `Pub.sub`). */
export const CLOSE_OPTIONS: ReadonlyArray<string> = ["close"]

/**
 * The `close` option of `options` (the options argument of `caller`, whose options are `known`),
 * `true` when not given; throws `ChanArgumentError` for options that are not an object or have an
 * unknown key, or a `close` that is not a boolean.
 */
export const closeOption = (
  caller: string,
  options: { readonly close?: boolean } | undefined,
  known: ReadonlyArray<string> = CLOSE_OPTIONS
): boolean =>
  options === undefined ||
  (checkOption(`${caller} close`, checkOptionsArgument(caller, options, known).close, "boolean") ?? true)

/** The options of a channel constructor (`Chan.make`, `Chan.promiseChan`, the facade's `chan`, …). */
const CHANNEL_OPTIONS: ReadonlyArray<string> = ["name", "maxPending", "onUndelivered", "xform", "onXformError"]

/**
 * Checks the options of the channel constructor `caller`; throws `ChanArgumentError` naming
 * `caller` and the bad option.
 */
export const checkOptions = (
  caller: string,
  options: (Options<any> & Partial<XformOptions<any, any>>) | undefined
): CoreOptions<any, any> | undefined => {
  if (options === undefined) return undefined
  checkOptionsArgument(caller, options, CHANNEL_OPTIONS)
  const { name, maxPending, onUndelivered, xform, onXformError } = options
  if (name !== undefined && typeof name !== "string") throw new ChanArgumentError(`${caller} name`, name, "a string")
  if (maxPending !== undefined && !(maxPending === Infinity || (Number.isInteger(maxPending) && maxPending >= 1))) {
    throw new ChanArgumentError(`${caller} maxPending`, maxPending, "an integer >= 1 (or Infinity)")
  }
  if (onUndelivered !== undefined) checkFunction(`${caller} onUndelivered`, onUndelivered)
  if (xform !== undefined && !isXform(xform)) throw new ChanArgumentError(`${caller} xform`, xform, "an Xform")
  if (onXformError !== undefined) checkFunction(`${caller} onXformError`, onXformError)
  return { name, maxPending, onUndelivered, xform, onXformError }
}

/**
 * The buffer and checked options of a new channel (made by `caller`); throws `ChanArgumentError`
 * for an xform without a buffer too.
 */
export const checkChannel = (
  caller: string,
  buffer: BufferSpec | undefined,
  options: (Options<any> & Partial<XformOptions<any, any>>) | undefined
): [Buf<any> | undefined, CoreOptions<any, any> | undefined] => {
  // only `undefined` means "not given" (unbuffered): `null` is a bad buffer argument
  const spec = buffer === undefined ? 0 : buffer
  const buf = makeBuffer(`${caller} buffer`, spec)
  const core = checkOptions(caller, options)
  if (core?.xform !== undefined && buf === undefined) {
    throw new ChanArgumentError(`${caller} buffer for an xform`, spec, "a buffer of size >= 1 (an xform needs one)")
  }
  return [buf, core]
}
