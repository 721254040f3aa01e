import { Cause } from "effect"

/**
 * A one-line description of a failure or defect, for a reason the model or
 * a user reads. Stack traces stay out: they belong in logs and spans.
 */
export const describeCause = (cause: Cause.Cause<unknown>): string => {
  const found = Cause.findError(cause)
  if (found._tag === "Success") return describeValue(found.success)
  return describeValue(Cause.squash(cause))
}

export const describeValue = (value: unknown): string => {
  if (value instanceof Error) {
    const tag = (value as { readonly _tag?: unknown })._tag
    const name = typeof tag === "string" ? tag : value.name
    return value.message ? `${name}: ${value.message}` : name
  }
  if (typeof value === "string") return value
  try {
    const json = JSON.stringify(value)
    if (json !== undefined) return json
  } catch {
    // fall through: not serialisable
  }
  return String(value)
}
