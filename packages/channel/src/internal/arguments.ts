/**
 * Checking what users pass in, shared by the Effect API and the Promise facade: buffer arguments
 * and channel options (durations: `time.ts`).
 *
 * @internal
 */
import { type BufferSpec, isBuffer } from "../Buffer.js"
import { ChanArgumentError } from "../ChanError.js"
import { isXform } from "../Xform.js"
import { type Buf, RingBuffer } from "./buffer.js"
import { type CoreOptions, isChanCore } from "./channel.js"
import type { Options, XformOptions } from "./ports.js"

/** The buffer for a buffer argument (`undefined`: unbuffered); throws `ChanArgumentError` for a bad one. */
export const makeBuffer = (buffer: BufferSpec): Buf<any> | undefined => {
  if (typeof buffer === "number") {
    if (!Number.isInteger(buffer) || buffer < 0) {
      throw new ChanArgumentError("buffer size", buffer, "an integer >= 0 (0 means unbuffered)")
    }
    return buffer === 0 ? undefined : new RingBuffer("fixed", buffer)
  }
  if (isBuffer(buffer)) return new RingBuffer(buffer.policy, buffer.capacity)
  throw new ChanArgumentError("buffer", buffer, "a size (integer >= 0) or a Buffer")
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
 * given) passes; otherwise an options argument (`"object"`) must be an object, a boolean option
 * (`"boolean"`) a boolean. Returns the error naming `argument` and the value, or `undefined`; for
 * the Promise facade, which rejects with it (`checkOption` throws it).
 */
export const optionError = (
  argument: string,
  value: unknown,
  kind: "object" | "boolean"
): ChanArgumentError | undefined => {
  if (value === undefined) return undefined
  if (kind === "boolean")
    return typeof value === "boolean" ? undefined : new ChanArgumentError(argument, value, "a boolean")
  return typeof value === "object" && value !== null ? undefined : new ChanArgumentError(argument, value, "an object")
}

/** `value` if `optionError` finds nothing wrong with it; throws its `ChanArgumentError` otherwise. */
export const checkOption = <V>(argument: string, value: V, kind: "object" | "boolean"): V => {
  const error = optionError(argument, value, kind)
  if (error !== undefined) throw error
  return value
}

/**
 * The `close` option of `options` (the options argument of `caller`), `true` when not given; throws
 * `ChanArgumentError` for options that are not an object or a `close` that is not a boolean.
 */
export const closeOption = (caller: string, options: { readonly close?: boolean } | undefined): boolean =>
  options === undefined ||
  (checkOption(`${caller} close`, checkOption(`${caller} options`, options, "object").close, "boolean") ?? true)

/** Checks channel options; throws `ChanArgumentError` naming the bad option. */
export const checkOptions = (
  options: (Options<any> & Partial<XformOptions<any, any>>) | undefined
): CoreOptions<any, any> | undefined => {
  if (options === undefined) return undefined
  checkOption("options", options, "object")
  const { name, maxPending, onUndelivered, xform, onXformError } = options
  if (name !== undefined && typeof name !== "string") throw new ChanArgumentError("name", name, "a string")
  if (maxPending !== undefined && !(maxPending === Infinity || (Number.isInteger(maxPending) && maxPending >= 1))) {
    throw new ChanArgumentError("maxPending", maxPending, "an integer >= 1 (or Infinity)")
  }
  if (onUndelivered !== undefined && typeof onUndelivered !== "function") {
    throw new ChanArgumentError("onUndelivered", onUndelivered, "a function")
  }
  if (xform !== undefined && !isXform(xform)) throw new ChanArgumentError("xform", xform, "an Xform")
  if (onXformError !== undefined && typeof onXformError !== "function") {
    throw new ChanArgumentError("onXformError", onXformError, "a function")
  }
  return { name, maxPending, onUndelivered, xform, onXformError }
}

/** The buffer and checked options of a new channel; throws `ChanArgumentError` for an xform without a buffer too. */
export const checkChannel = (
  buffer: BufferSpec | undefined,
  options: (Options<any> & Partial<XformOptions<any, any>>) | undefined
): [Buf<any> | undefined, CoreOptions<any, any> | undefined] => {
  // only `undefined` means "not given" (unbuffered): `null` is a bad buffer argument
  const spec = buffer === undefined ? 0 : buffer
  const buf = makeBuffer(spec)
  const core = checkOptions(options)
  if (core?.xform !== undefined && buf === undefined) {
    throw new ChanArgumentError("buffer for an xform", spec, "a buffer of size >= 1 (an xform needs one)")
  }
  return [buf, core]
}
