/**
 * Params are read once. A call's params (and its id and name) are copied
 * into plain data when the call enters the gate, and every later stage —
 * the policy, decoding, the approver, the tool, the record — reads the
 * copy. A getter or a Proxy in the caller's object therefore cannot show
 * the policy one value and the tool another (issue 19, item 8).
 *
 * Only JSON-like data is copied: strings, finite or not numbers, booleans,
 * null, undefined, arrays and plain objects (prototype `Object.prototype`
 * or null). Anything else — a function, a symbol, a bigint, a class
 * instance, a cycle, a getter that throws — is refused: the call ends
 * `InvalidParams` rather than run with something the gate cannot read.
 * A hand-written walk rather than `structuredClone`: that one copies class
 * instances, Maps and Dates as look-alikes, and costs more per call.
 */
import type { ToolCall } from "../../ToolCall.ts"

/** Why a value could not be copied. */
export class NotPlainData extends Error {}

const maxDepth = 200

// `done` maps an object already copied to its copy: a value shared by
// several parents (a DAG, as `{ a: x, b: [x] }` nested 200 deep) is copied
// once, not once per path — which would be exponential. `seen` holds the
// objects being copied, to refuse a cycle.
const copy = (value: unknown, depth: number, seen: Set<object>, done: Map<object, unknown>): unknown => {
  if (value === null || value === undefined) return value
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
      return value
    case "object":
      break
    default:
      throw new NotPlainData(`a ${typeof value} is not plain data`)
  }
  if (depth > maxDepth) throw new NotPlainData(`nested deeper than ${maxDepth} levels`)
  const object = value as object
  if (done.has(object)) return done.get(object)
  if (seen.has(object)) throw new NotPlainData("a value that contains itself")
  seen.add(object)
  let out: unknown
  if (Array.isArray(object)) {
    const length = object.length
    const array = new Array<unknown>(length)
    for (let i = 0; i < length; i++) array[i] = copy(object[i], depth + 1, seen, done)
    out = array
  } else {
    const proto = Object.getPrototypeOf(object)
    if (proto !== Object.prototype && proto !== null) {
      throw new NotPlainData(`a ${proto?.constructor?.name ?? "class"} instance is not plain data`)
    }
    const record: Record<string, unknown> = {}
    for (const key of Object.keys(object)) {
      // `__proto__` as an own key (JSON.parse makes one) stays data
      Object.defineProperty(record, key, {
        value: copy((object as Record<string, unknown>)[key], depth + 1, seen, done),
        enumerable: true,
        writable: true,
        configurable: true
      })
    }
    out = record
  }
  seen.delete(object)
  done.set(object, out)
  return out
}

/** A plain-data copy of `value`, each property read once; throws `NotPlainData` for anything else. */
export const plain = (value: unknown): unknown => {
  return copy(value, 0, new Set(), new Map())
}

/** The call as read once: id and name as strings, params as plain data or the reason they are not. */
export interface Snapshot {
  readonly call: ToolCall
  /** Why the params could not be read, when they could not. */
  readonly unreadable: string | undefined
}

/** Reads `call` once (see the module comment). Never throws. */
export const snapshot = (call: ToolCall): Snapshot => {
  let id: string
  let name: string
  try {
    id = String(call.id)
    name = String(call.name)
  } catch {
    return { call: { id: "", name: "", params: undefined }, unreadable: "the call's id or name could not be read" }
  }
  try {
    return { call: { id, name, params: plain(call.params) }, unreadable: undefined }
  } catch (error) {
    const why = error instanceof NotPlainData ? error.message : `reading them failed (${String(error)})`
    return { call: { id, name, params: undefined }, unreadable: `the params are not plain data: ${why}` }
  }
}
