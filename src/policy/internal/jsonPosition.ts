/**
 * Where a JSON text stops being JSON. `JSON.parse` names the offset of some
 * syntax errors and only quotes a snippet for others, so policy-file errors
 * would point nowhere; this scanner walks the grammar once (no values are
 * built) and returns the offset of the first character that cannot continue
 * a valid document. Only called after `JSON.parse` failed.
 */
// One scanner loop with a case per JSON token, kept whole so the grammar
// reads in one place.
export const errorOffset = (text: string): number => {
  let i = 0
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++
  }
  const fail = (): never => {
    throw i
  }
  const literal = (word: string) => {
    for (const c of word) if (text[i++] !== c) (i--, fail())
  }
  const string = () => {
    i++
    while (i < text.length) {
      const c = text[i]!
      if (c === "\"") return void i++
      if (c < " ") fail()
      if (c === "\\") {
        i++
        const e = text[i]
        if (e === "u") {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) (i += k, fail())
          i += 5
        } else if (e !== undefined && "\"\\/bfnrt".includes(e)) i++
        else fail()
      } else i++
    }
    fail()
  }
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (m === null || m[0] === "" || m[0] === "-") fail()
    i += m![0].length
  }
  const value = (): void => {
    ws()
    const c = text[i]
    if (c === "{") {
      i++
      ws()
      if (text[i] === "}") return void i++
      for (;;) {
        ws()
        if (text[i] !== "\"") fail()
        string()
        ws()
        if (text[i] !== ":") fail()
        i++
        value()
        ws()
        if (text[i] === ",") i++
        else if (text[i] === "}") return void i++
        else fail()
      }
    }
    if (c === "[") {
      i++
      ws()
      if (text[i] === "]") return void i++
      for (;;) {
        value()
        ws()
        if (text[i] === ",") i++
        else if (text[i] === "]") return void i++
        else fail()
      }
    }
    if (c === "\"") return string()
    if (c === "t") return literal("true")
    if (c === "f") return literal("false")
    if (c === "n") return literal("null")
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number()
    fail()
  }
  try {
    value()
    ws()
    return i < text.length ? i : text.length
  } catch (offset) {
    return offset as number
  }
}

/** `line L column C` (1-based) of an offset in a text. */
export const lineAndColumn = (text: string, offset: number): string => {
  const before = text.slice(0, offset).split("\n")
  return `line ${before.length} column ${before[before.length - 1]!.length + 1}`
}

/**
 * The offset in a valid JSON text of what `path` names (`["permissions",
 * "allow", 1]`): the key of an object member (so that a misspelt or
 * unexpected key is pointed at), the start of an array element. undefined
 * when the path leads nowhere. Only called on a text `JSON.parse` accepted.
 */
export const offsetOf = (text: string, path: ReadonlyArray<string | number>): number | undefined => {
  let i = 0
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++
  }
  const skipString = () => {
    i++
    while (i < text.length && text[i] !== "\"") i += text[i] === "\\" ? 2 : 1
    i++
  }
  const skipValue = (): void => {
    ws()
    const open = text[i]
    if (open === "\"") return skipString()
    if (open !== "{" && open !== "[") {
      while (i < text.length && !",}] \t\r\n".includes(text[i]!)) i++
      return
    }
    const close = open === "{" ? "}" : "]"
    i++
    ws()
    if (text[i] === close) return void i++
    for (;;) {
      ws()
      if (open === "{") {
        skipString()
        ws()
        i++ // :
      }
      skipValue()
      ws()
      if (text[i++] !== ",") return
    }
  }
  let at: number | undefined = undefined
  for (const segment of path) {
    ws()
    if (typeof segment === "string") {
      if (text[i] !== "{") return undefined
      i++
      for (;;) {
        ws()
        if (text[i] !== "\"") return undefined
        const keyAt = i
        skipString()
        const key = JSON.parse(text.slice(keyAt, i)) as string
        ws()
        i++ // :
        if (key === segment) {
          at = keyAt
          break
        }
        skipValue()
        ws()
        if (text[i++] !== ",") return undefined
      }
    } else {
      if (text[i] !== "[") return undefined
      i++
      for (let k = 0; k < segment; k++) {
        ws()
        if (text[i] === "]") return undefined
        skipValue()
        ws()
        if (text[i++] !== ",") return undefined
      }
      ws()
      if (text[i] === "]") return undefined
      at = i
    }
  }
  return at
}
