/**
 * A Schema tagged union that also constructs and matches its values, so data
 * that crosses a boundary (results, events, decisions, verdicts) is defined
 * once, as a Schema, yet reads at call sites like a `Data.taggedEnum`:
 * `Outcome.Cancelled({ phase })`, `Outcome.$match(o, {...})`.
 *
 * Constructors build plain objects without validating them: they sit on the
 * executor's hot path and their inputs are already typed. Decoding data from
 * outside (a JSON bridge, a file) goes through the Schema.
 */
import { Schema } from "effect"

type Fields<Case extends Schema.Struct.Fields, Tag extends string> = Omit<
  Schema.TaggedStruct<Tag, Case>["Type"],
  "_tag"
>

type Constructors<Cases extends Record<string, Schema.Struct.Fields>, A> = {
  readonly [Tag in keyof Cases & string]: {} extends Fields<Cases[Tag], Tag>
    ? (fields?: Fields<Cases[Tag], Tag>) => A
    : (fields: Fields<Cases[Tag], Tag>) => A
}

export type TaggedUnion<Cases extends Record<string, Schema.Struct.Fields>> =
  & Schema.TaggedUnion<{ readonly [Tag in keyof Cases & string]: Schema.TaggedStruct<Tag, Cases[Tag]> }>
  & Constructors<Cases, Schema.TaggedUnion<{ readonly [Tag in keyof Cases & string]: Schema.TaggedStruct<Tag, Cases[Tag]> }>["Type"]>
  & {
    /** A guard for one case, as `Data.taggedEnum`'s `$is`. */
    readonly $is: <Tag extends keyof Cases & string>(
      tag: Tag
    ) => (u: unknown) => u is Schema.TaggedStruct<Tag, Cases[Tag]>["Type"]
    /** The Schema's exhaustive `match`, under `Data.taggedEnum`'s name. */
    readonly $match: Schema.TaggedUnion<{ readonly [Tag in keyof Cases & string]: Schema.TaggedStruct<Tag, Cases[Tag]> }>["match"]
  }

export const taggedUnion = <const Cases extends Record<string, Schema.Struct.Fields>>(
  cases: Cases
): TaggedUnion<Cases> => {
  const schema = Schema.TaggedUnion(cases)
  const constructors: Record<string, (fields?: object) => unknown> = {}
  for (const tag of Object.keys(cases)) {
    constructors[tag] = (fields = {}) => ({ _tag: tag, ...fields })
  }
  const $is = (tag: string) => (u: unknown) =>
    typeof u === "object" && u !== null && (u as { readonly _tag?: unknown })._tag === tag
  return Object.assign(schema, constructors, { $is, $match: schema.match }) as unknown as TaggedUnion<Cases>
}
