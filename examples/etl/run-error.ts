/**
 * Why a whole run failed, for the person who ran it: the partner's listing or the database gave
 * out, or the data folder is in use. Its message is the cause's (a `PartnerError` says which
 * partner, a `DbError` which database); its stack is that one line — where in our code the error
 * was made is no help to a user who mistyped a URL, and a bug of ours is a defect, never a
 * `RunError`, so it keeps its stack.
 */
import { Data } from "effect"

export class RunError extends Data.TaggedError("RunError")<{ readonly message: string }> {
  /** `context`, when given, comes first: "the partner at http://…" */
  constructor(cause: unknown, context?: string) {
    const why = cause instanceof Error ? cause.message : String(cause)
    super({ message: context === undefined ? why : `${context}: ${why}` })
    this.stack = `RunError: ${this.message}`
  }
}
