/**
 * The inputs of the standard tools, as Claude Code defines them. Judged
 * without the tool's own schema (`toolgate check`, the hook), an input the
 * tool would not accept as it stands is a bad call: a key outside these
 * (`cwd`, `env`, `directory` on Bash) may change what the call does in a way
 * no rule sees, and a value of the wrong type (`replace_all: "yes"`, a
 * pattern that is a number) is not what the rules were judged on. Either is
 * asked, never allowed; deny rules still deny. A missing key is not checked
 * here: a missing subject (`file_path`, `command`) is already unreadable to
 * the judge, and a missing `content` changes nothing it judges. (The
 * executor rejects all of them against the tool's schema.)
 */
import { Cause, Exit, Schema } from "effect"

const text = Schema.optional(Schema.String)
const count = Schema.optional(Schema.Number)
const flag = Schema.optional(Schema.Boolean)

const Edit = Schema.Struct({ old_string: text, new_string: text, replace_all: flag })

const inputs: Readonly<Record<string, Schema.Top>> = {
  Bash: Schema.Struct({ command: text, description: text, timeout: count, run_in_background: flag }),
  Read: Schema.Struct({ file_path: text, offset: count, limit: count, pages: text }),
  Write: Schema.Struct({ file_path: text, content: text }),
  Edit: Schema.Struct({ file_path: text, ...Edit.fields }),
  MultiEdit: Schema.Struct({ file_path: text, edits: Schema.optional(Schema.Array(Edit)) }),
  NotebookEdit: Schema.Struct({
    notebook_path: text,
    new_source: text,
    cell_id: text,
    cell_type: Schema.optional(Schema.Literals(["code", "markdown"])),
    edit_mode: Schema.optional(Schema.Literals(["replace", "insert", "delete"]))
  }),
  Glob: Schema.Struct({ pattern: text, path: text }),
  Grep: Schema.Struct({
    pattern: text,
    path: text,
    glob: text,
    type: text,
    output_mode: Schema.optional(Schema.Literals(["content", "files_with_matches", "count"])),
    "-i": flag,
    "-n": flag,
    "-A": count,
    "-B": count,
    "-C": count,
    "-o": flag,
    multiline: flag,
    head_limit: count,
    offset: count
  }),
  LS: Schema.Struct({ path: text, ignore: Schema.optional(Schema.Array(Schema.String)) }),
  WebFetch: Schema.Struct({ url: text, prompt: text }),
  WebSearch: Schema.Struct({ query: text, allowed_domains: Schema.optional(Schema.Array(Schema.String)), blocked_domains: Schema.optional(Schema.Array(Schema.String)) })
}

// Built on first use: the Claude Code hook starts a process per call and judges one tool.
const decoders = new Map<string, (u: unknown) => Exit.Exit<unknown, unknown>>()
const decoderOf = (name: string) => {
  let decode = decoders.get(name)
  if (decode === undefined && Object.hasOwn(inputs, name)) {
    decode = Schema.decodeUnknownExit(inputs[name] as Schema.Codec<unknown>, { onExcessProperty: "error" })
    decoders.set(name, decode)
  }
  return decode
}

/** Why `params` is not an input the standard tool `name` accepts; undefined when it is, or `name` is no standard tool. */
export const badInput = (name: string, params: unknown): string | undefined => {
  const decode = decoderOf(name)
  if (decode === undefined) return undefined
  const exit = decode(params)
  if (Exit.isSuccess(exit)) return undefined
  // SchemaError's message: "Expected boolean | undefined\n  at [\"replace_all\"]"
  const message = Exit.isFailure(exit) ? String((Cause.squash(exit.cause) as { readonly message?: unknown }).message ?? "") : ""
  const [what, where] = message.split("\n").map((l) => l.trim())
  const why = what === undefined || what === "" ? "a bad value" : where === undefined ? what : `${what.charAt(0).toLowerCase()}${what.slice(1)} ${where}`
  return `${name}'s input is not one the tool accepts (${summary(name, params) ?? why}), so what it would do is not what the rules see`
}

// A short account of what is wrong, in the words a reader of the reason needs.
const summary = (name: string, params: unknown): string | undefined => {
  if (typeof params !== "object" || params === null || Array.isArray(params)) return "the input is not an object"
  const schema = inputs[name] as unknown as { readonly fields: Readonly<Record<string, unknown>> }
  const stray = Object.keys(params).filter((k) => !Object.hasOwn(schema.fields, k))
  if (stray.length > 0) return `it does not define ${stray.map((k) => JSON.stringify(k)).join(", ")}, which may change what the call does`
  return undefined
}
