/**
 * The shell reader: a tokenizer and lenient recursive-descent parser for the
 * subset of bash an agent's command line uses (words and every quoting form,
 * comments, `;` `&` `&&` `||` `|` `|&` newlines, redirects, here-documents,
 * `$(…)`, backticks, `<(…)`, subshells, groups, if/while/until/for, `!`,
 * `time`, assignments). It lists every simple command in source order.
 *
 * Invariant: the reader never guesses. Every character is read by the same
 * rule bash's own `read_token` applies, or the whole line is refused with
 * {@link Unreadable} (the engine then asks). It is lenient only towards
 * syntax errors bash would reject without running the offending command, so
 * what it lists is a superset of what bash runs. `test/policy/differential`
 * checks this against real bash.
 */

/** A word: its literal value, or `undefined` when the shell computes it (expansions, globs, braces). */
export type Word = string | undefined

/** A redirection as written: what it does to which target. */
export interface RawRedirect {
  readonly text: string
  readonly access: "write" | "read"
  readonly target: Word
}

/** A simple command as written (words after assignments), or the redirects of a compound command. */
export interface RawCommand {
  readonly _tag: "Simple"
  readonly text: string
  readonly assigns: ReadonlyArray<{ readonly name: string; readonly value: Word }>
  readonly words: ReadonlyArray<Word>
  readonly redirects: ReadonlyArray<RawRedirect>
  /** inside a loop body (`do … done`): it may run any number of times */
  readonly inLoop?: boolean
}

/** Something the reader understood well enough to know it cannot judge (a function definition, a loop variable). */
export interface RawOpaque {
  readonly _tag: "Opaque"
  readonly text: string
  readonly reason: string
}

export type Raw = RawCommand | RawOpaque

/** Thrown when the line uses bash the reader does not read: the whole line is opaque. */
export class Unreadable {
  readonly reason: string
  constructor(reason: string) {
    this.reason = reason
  }
}

const fail = (reason: string): never => {
  throw new Unreadable(reason)
}

// Characters that end an unquoted word (bash's shell_break_chars).
const isBreak = (c: string | undefined) =>
  c === undefined || c === " " || c === "\t" || c === "\n" || c === ";" || c === "&" || c === "|" || c === "<" ||
  c === ">" || c === "(" || c === ")"

const reserved = new Set(["!", "if", "then", "elif", "else", "fi", "do", "done", "while", "until", "for", "case", "esac", "select", "function", "coproc", "time", "{", "}", "[[", "]]", "in"])

/** Names a loop or `read` may assign without changing how later commands run (lowercase, script-local by convention). */
export const isLocalName = (name: string) => /^[a-z_][a-z0-9_]*$/.test(name) && name !== "_"

const maxNesting = 32
const maxCommands = 2000

const isNameStart = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_"
// Sticky patterns, matched in place without slicing the input.
const assignment = /[A-Za-z_][A-Za-z0-9_]*(\+?=|\[)/y
const parameter = /\$(?:[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])/y
// Runs of characters with no special meaning, taken in one step.
const plainRun = /[^ \t\n;&|<>()\\'"$`*?[\]{}]+/y
const quotedRun = /[^"\\$`]+/y

interface Heredoc {
  readonly delim: string
  readonly strip: boolean
  readonly expand: boolean
}

interface Scanned {
  text: string
  computed: boolean
}

/**
 * Reads `src` and appends what it runs to `out`. `nested` marks a reader
 * inside a substitution, where here-documents are refused (bash's handling
 * of a delimiter followed by `)` differs between versions).
 */
export class Reader {
  private i = 0
  private readonly pending: Array<Heredoc> = []
  private subst = 0
  private afterPipe = false
  private subshells = 0
  private loops = 0
  private readonly src: string
  private readonly out: Array<Raw>
  private readonly nesting: number
  private readonly literalGlobs: boolean
  constructor(src: string, out: Array<Raw>, nesting = 0, literalGlobs = false) {
    this.src = src
    this.out = out
    this.nesting = nesting
    this.literalGlobs = literalGlobs
    if (nesting > maxNesting) fail(`substitutions nest deeper than ${maxNesting} levels`)
  }

  /** Reads the whole input as a command list. */
  readAll(): void {
    this.sequence(false)
    if (this.pending.length > 0) fail("a here-document is not terminated")
  }

  // Blanks, line continuations and a comment at the start of a token.
  private blanks(): void {
    const s = this.src
    for (;;) {
      const c = s[this.i]
      if (c === " " || c === "\t") this.i++
      else if (c === "\\" && s[this.i + 1] === "\n") this.i += 2
      else break
    }
    if (s[this.i] === "#") {
      let j = s.indexOf("\n", this.i)
      if (j < 0) j = s.length
      if (s[j - 1] === "\\") fail("a comment ends with a backslash")
      this.i = j
    }
  }

  private sequence(closeParen: boolean): void {
    const s = this.src
    for (;;) {
      this.blanks()
      const c = s[this.i]
      if (c === undefined) {
        if (closeParen) fail("a '(' is not closed")
        return
      }
      if (c === "\n") {
        this.i++
        this.heredocs()
      } else if (c === ";") {
        if (s[this.i + 1] === ";" || s[this.i + 1] === "&") fail("case clauses are not read")
        this.i++
      } else if (c === "&" && s[this.i + 1] !== ">") {
        this.i += s[this.i + 1] === "&" ? 2 : 1
      } else if (c === "|") {
        // `time` is a keyword only at the start of a pipeline, not after `|`.
        this.afterPipe = s[this.i + 1] !== "|"
        this.i += s[this.i + 1] === "|" || s[this.i + 1] === "&" ? 2 : 1
        continue
      } else if (c === ")") {
        if (!closeParen) fail("a ')' without '('")
        this.i++
        return
      } else {
        this.command()
        this.afterPipe = false
        continue
      }
      // newlines after `|` keep the pipeline going
      if (c !== "\n") this.afterPipe = false
    }
  }

  // A bare word at the current position that bash could read as a reserved word.
  private peekReserved(): string | undefined {
    const s = this.src
    let j = this.i
    let w = ""
    let split = false
    for (;;) {
      const c = s[j]
      if (c === "\\" && s[j + 1] === "\n") {
        split = true
        j += 2
      } else if (c !== undefined && !isBreak(c) && c !== "'" && c !== '"' && c !== "\\" && c !== "$" && c !== "`") {
        w += c
        j++
      } else break
    }
    if (j === this.i || (j < s.length && !isBreak(s[j]))) return undefined
    if (!reserved.has(w)) return undefined
    // bash joins lines before it reads words: `i\<newline>f` is `if`.
    if (split) fail("a reserved word split by a line continuation")
    return w
  }

  // An assignment word whose name is split by a line continuation
  // (`doas\<newline>A=1` is the assignment `doasA=1` to bash).
  private splitAssignment(): boolean {
    const s = this.src
    let j = this.i
    let split = false
    let name = 0
    for (;;) {
      const c = s[j]
      if (c === "\\" && s[j + 1] === "\n") {
        split = true
        j += 2
      } else if (c !== undefined && (isNameStart(c) || (name > 0 && c >= "0" && c <= "9"))) {
        name++
        j++
      } else break
    }
    if (!split || name === 0) return false
    while (s[j] === "\\" && s[j + 1] === "\n") j += 2
    if (s[j] === "+") j++
    while (s[j] === "\\" && s[j + 1] === "\n") j += 2
    return s[j] === "=" || s[j] === "["
  }

  private command(): void {
    const s = this.src
    const start = this.i
    if (s[this.i] === "(") {
      if (s[this.i + 1] === "(") fail("arithmetic commands (( … )) are not read")
      if (++this.subshells > maxNesting * 8) fail(`subshells nest deeper than ${maxNesting * 8} levels`)
      this.i++
      this.sequence(true)
      this.subshells--
      this.trailingRedirects(start)
      return
    }
    const word = this.peekReserved()
    if (word === "time" && this.afterPipe) return this.simple()
    switch (word) {
      case undefined:
      case "in":
      case "]]":
        return this.simple()
      case "!":
      case "if":
      case "then":
      case "elif":
      case "else":
      case "do":
      case "while":
      case "until":
      case "{":
        if (word === "do") this.loops++
        this.i += word.length
        return
      case "fi":
      case "done":
      case "}":
        if (word === "done" && this.loops > 0) this.loops--
        this.i += word.length
        this.trailingRedirects(start)
        return
      case "time": {
        this.i += 4
        this.blanks()
        if (s.startsWith("-p", this.i) && isBreak(s[this.i + 2])) this.i += 2
        else if (s[this.i] === "-") fail("an option of the time keyword other than -p")
        return
      }
      case "for":
        return this.forLoop(start)
      case "function":
        return this.functionKeyword(start)
      default:
        return fail(`${word} is not read`)
    }
  }

  private forLoop(start: number): void {
    const s = this.src
    this.i += 3
    this.blanks()
    if (s[this.i] === "(") fail("arithmetic for loops are not read")
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.i, this.i + 256))
    if (m === null) return fail("a for loop without a variable name")
    const name = m[0]
    this.i += name.length
    if (!isBreak(s[this.i])) fail("a for loop variable that is not a plain name")
    if (!isLocalName(name)) this.out.push({ _tag: "Opaque", text: s.slice(start, this.i), reason: `the loop assigns ${name}` })
    for (;;) {
      this.blanks()
      if (s[this.i] === "\n") {
        this.i++
        this.heredocs()
      } else break
    }
    if (this.peekReserved() !== "in") return
    this.i += 2
    for (;;) {
      this.blanks()
      const c = s[this.i]
      if (c === undefined || c === "\n" || c === ";") return
      if (isBreak(c)) fail("an operator in a for loop's word list")
      this.word()
    }
  }

  private functionKeyword(start: number): void {
    const s = this.src
    this.i += 8
    this.blanks()
    const m = /^[^\s;&|<>()'"`$\\]+/.exec(s.slice(this.i, this.i + 256))
    if (m === null) return fail("a function definition without a plain name")
    this.i += m[0].length
    this.blanks()
    if (s[this.i] === "(") {
      this.i++
      this.blanks()
      if (s[this.i] !== ")") fail("a function definition with a malformed ()")
      this.i++
    }
    this.out.push({ _tag: "Opaque", text: s.slice(start, this.i), reason: `defines the function ${m[0]}` })
  }

  private trailingRedirects(start: number): void {
    const redirects: Array<RawRedirect> = []
    for (;;) {
      this.blanks()
      if (!this.redirect(redirects)) break
    }
    if (redirects.length > 0) {
      this.out.push({ _tag: "Simple", text: this.src.slice(start, this.i).trim(), assigns: [], words: [], redirects })
    }
  }

  private simple(): void {
    const s = this.src
    const start = this.i
    const assigns: Array<{ name: string; value: Word }> = []
    const words: Array<Word> = []
    const redirects: Array<RawRedirect> = []
    // The command's text spans its assignments and words, not its redirections.
    let textStart = -1
    let textEnd = start
    for (;;) {
      this.blanks()
      const c = s[this.i]
      if (c === undefined || c === "\n" || c === ";" || c === "|" || c === ")") break
      if (c === "&" && s[this.i + 1] !== ">") break
      if (this.redirect(redirects)) continue
      if (c === "(") {
        if (words.length === 1 && assigns.length === 0 && redirects.length === 0) {
          this.i++
          this.blanks()
          if (s[this.i] !== ")") fail("a '(' after a command word")
          this.i++
          this.out.push({ _tag: "Opaque", text: s.slice(start, this.i), reason: `defines the function ${words[0] ?? "(computed)"}` })
          return
        }
        fail("a '(' inside a command")
      }
      if (textStart < 0) textStart = this.i
      if (words.length === 0 && this.splitAssignment()) fail("an assignment split by a line continuation")
      if (words.length === 0 && isNameStart(c)) {
        assignment.lastIndex = this.i
        const m = assignment.exec(s)
        if (m !== null) {
          if (m[1] === "[") fail("array assignments are not read")
          const name = m[0].slice(0, -m[1]!.length)
          this.i += m[0].length
          const value = isBreak(s[this.i]) ? "" : this.word(true)
          if (s[this.i] === "(") fail("array assignments are not read")
          assigns.push({ name, value })
          textEnd = this.i
          continue
        }
      }
      words.push(this.word())
      textEnd = this.i
    }
    const text = textStart < 0 ? s.slice(start, this.i).trim() : s.slice(textStart, textEnd).trim()
    // Bounds the work on a huge line: no agent writes thousands of commands on one line.
    if (this.out.length >= maxCommands) fail(`the line runs more than ${maxCommands} commands`)
    this.out.push({ _tag: "Simple", text, assigns, words, redirects, ...(this.loops > 0 ? { inLoop: true } : {}) })
  }

  // Reads a redirection at the current position, if there is one.
  private redirect(into: Array<RawRedirect>): boolean {
    const s = this.src
    const start = this.i
    let j = this.i
    while (s[j] !== undefined && s[j]! >= "0" && s[j]! <= "9") j++
    const c = s[j]
    if (c === "{" && j === this.i && /^\{[A-Za-z_][A-Za-z0-9_]*\}[<>]/.test(s.slice(j, j + 260))) fail("redirections to a named file descriptor are not read")
    if (c !== "<" && c !== ">" && !(c === "&" && s[j + 1] === ">" && j === this.i)) return false
    if ((c === "<" || c === ">") && s[j + 1] === "(") {
      if (j === this.i) return false
      fail("a process substitution after a number")
    }
    const ops = ["<<<", "<<-", "<<", "<>", "<&", "<", ">>", ">|", ">&", ">", "&>>", "&>"]
    const op = ops.find((o) => s.startsWith(o, j))!
    this.i = j + op.length
    this.blanks()
    const t = s[this.i]
    if (t === undefined || (isBreak(t) && !((t === "<" || t === ">") && s[this.i + 1] === "("))) fail(`the redirection ${op} has no target`)
    if (op === "<<" || op === "<<-") {
      this.heredocDelimiter(op === "<<-")
      return true
    }
    if ((op === "<&" || op === ">&") && s[this.i] === "-") {
      // bash reads `-` after `>&` as its own token: `>&-\<newline>x` closes
      // the descriptor and `x` is a word. Anything glued to it is refused.
      if (!isBreak(s[this.i + 1])) fail(`${op}- followed by more text`)
      this.i++
      return true
    }
    const targetStart = this.i
    const target = this.word()
    const text = s.slice(start, this.i)
    if (op === "<<<") return true
    if (op === "<&" || op === ">&") {
      const raw = s.slice(targetStart, this.i)
      if (/^(\d+-?|-)$/.test(raw)) return true
      into.push({ text, access: op === ">&" ? "write" : "read", target })
      return true
    }
    // `<>` opens the file for reading and writing: both rules apply.
    if (op === "<>") into.push({ text, access: "read", target })
    into.push({ text, access: op === "<" ? "read" : "write", target })
    return true
  }

  private heredocDelimiter(strip: boolean): void {
    const s = this.src
    const m = /^(?:[A-Za-z0-9_.\-]|'[A-Za-z0-9_.\-]*'|"[A-Za-z0-9_.\-]*")+/.exec(s.slice(this.i, this.i + 256))
    if (m === null || !isBreak(s[this.i + m[0].length])) return fail("a here-document delimiter with expansions or escapes")
    if (this.nesting > 0 || this.subst > 0) fail("a here-document inside a substitution")
    const delim = m[0].replace(/['"]/g, "")
    if (delim.length === 0) fail("an empty here-document delimiter")
    this.i += m[0].length
    this.pending.push({ delim, strip, expand: !/['"]/.test(m[0]) })
  }

  // Reads the bodies of the here-documents opened on the line just ended.
  private heredocs(): void {
    const s = this.src
    if (this.pending.length > 0 && this.subst > 0) fail("a here-document body inside a substitution")
    while (this.pending.length > 0) {
      const doc = this.pending.shift()!
      const bodyStart = this.i
      for (;;) {
        if (this.i >= s.length) fail(`the here-document ${doc.delim} is not terminated`)
        let end = s.indexOf("\n", this.i)
        if (end < 0) end = s.length
        const line = s.slice(this.i, end)
        const check = doc.strip ? line.replace(/^\t+/, "") : line
        if (check === doc.delim) {
          const body = s.slice(bodyStart, this.i)
          this.i = Math.min(end + 1, s.length)
          if (doc.expand) new Reader(body, this.out, this.nesting + 1).expansions()
          break
        }
        if (line.endsWith("\\")) fail("a here-document line ends with a backslash")
        this.i = end + 1
      }
    }
  }

  /** Scans a here-document body for the substitutions bash runs in it. */
  expansions(): void {
    const s = this.src
    while (this.i < s.length) {
      const c = s[this.i]
      if (c === "\\") this.i += 2
      else if (c === "$") this.dollar({ text: "", computed: false }, true)
      else if (c === "`") this.backtick(true)
      else this.i++
    }
  }

  /** Reads one word and returns its value. `assignment` allows an empty word (`X= cmd`). */
  word(assignment = false): Word {
    const s = this.src
    const acc: Scanned = { text: "", computed: false }
    let glob = false
    let brace = false
    const start = this.i
    while (this.i < s.length) {
      const c = s[this.i]!
      if ((c === "<" || c === ">") && s[this.i + 1] === "(") {
        this.i += 2
        this.substitution()
        acc.computed = true
        continue
      }
      if (isBreak(c)) break
      plainRun.lastIndex = this.i
      if (plainRun.test(s)) {
        acc.text += s.slice(this.i, plainRun.lastIndex)
        this.i = plainRun.lastIndex
        continue
      }
      switch (c) {
        case "\\": {
          const n = s[this.i + 1]
          if (n === undefined) fail("a backslash at the end of the command")
          // `2\<newline>>f` is the redirection `2>f` to bash.
          if (n === "\n" && (s[this.i + 2] === "<" || s[this.i + 2] === ">")) fail("a line continuation before a redirection")
          if (n !== "\n") acc.text += n
          this.i += 2
          break
        }
        case "'": {
          const j = s.indexOf("'", this.i + 1)
          if (j < 0) fail("an unterminated single quote")
          acc.text += s.slice(this.i + 1, j)
          this.i = j + 1
          break
        }
        case '"':
          this.i++
          this.doubleQuoted(acc)
          break
        case "$":
          this.dollar(acc, false)
          break
        case "`":
          this.backtick(false)
          acc.computed = true
          break
        case "*":
        case "?":
        case "[":
        case "]":
          glob = true
          acc.text += c
          this.i++
          break
        case "{":
        case "}":
          brace = true
          acc.text += c
          this.i++
          break
        default:
          acc.text += c
          this.i++
      }
    }
    if (this.i === start && !assignment) fail("an empty word")
    // A here-document body starts after the next newline token; a newline
    // inside a word before it is not worth modelling.
    if (this.pending.length > 0 && s.slice(start, this.i).includes("\n")) fail("a word spanning lines before a here-document body")
    if (acc.computed) return undefined
    // A quoted `~` is a file named `~`, not home: `./~` keeps it that way.
    if (acc.text.startsWith("~") && s[start] !== "~") acc.text = `./${acc.text}`
    if (this.literalGlobs) return acc.text
    const raw = s.slice(start, this.i)
    // A lone `[` or `]` (the test command) is no pattern bash can expand.
    if (glob && !/^[[\]]$/.test(raw) && /[*?[]/.test(raw)) return undefined
    if (brace && (raw.includes(",") || raw.includes(".."))) return undefined
    return acc.text
  }

  // After the opening `"`: reads to the closing quote.
  private doubleQuoted(acc: Scanned): void {
    const s = this.src
    for (;;) {
      const c = s[this.i]
      if (c === undefined) return fail("an unterminated double quote")
      if (c === '"') {
        this.i++
        return
      }
      quotedRun.lastIndex = this.i
      if (quotedRun.test(s)) {
        acc.text += s.slice(this.i, quotedRun.lastIndex)
        this.i = quotedRun.lastIndex
        continue
      }
      if (c === "\\") {
        const n = s[this.i + 1]
        if (n === undefined) return fail("an unterminated double quote")
        if (n === "\n") this.i += 2
        else if (n === "$" || n === "`" || n === '"' || n === "\\") {
          acc.text += n
          this.i += 2
        } else {
          acc.text += "\\"
          this.i++
        }
      } else if (c === "$") this.dollar(acc, true)
      else if (c === "`") {
        this.backtick(true)
        acc.computed = true
      } else {
        acc.text += c
        this.i++
      }
    }
  }

  private dollar(acc: Scanned, quoted: boolean): void {
    const s = this.src
    const n = s[this.i + 1]
    // bash joins `$\<newline>(` into `$(`: never read as a literal `$`.
    if (n === "\\" && s[this.i + 2] === "\n") fail("a line continuation after $")
    if (n === "(") {
      if (s[this.i + 2] === "(") {
        this.arithmetic()
        acc.computed = true
        return
      }
      this.i += 2
      this.substitution()
      acc.computed = true
      return
    }
    if (n === "{") {
      const m = /^\$\{#?(?:[A-Za-z_][A-Za-z0-9_]*(?:\[(?:@|\*|[0-9]+)\])?|[0-9]+|[@*#?$!-])(?:(?::?[-+]|##?|%%?)[^$`'"{}\\[\]]*)?\}/.exec(s.slice(this.i, this.i + 512))
      if (m === null) fail("a parameter expansion ${…} other than a plain name with a literal default")
      this.i += m![0].length
      acc.computed = true
      return
    }
    if (n === "[") fail("arithmetic expansion $[ … ] is not read")
    if (n === "'" && !quoted) {
      this.i += 2
      this.ansiC(acc)
      return
    }
    if (n === '"' && !quoted) {
      this.i += 2
      this.doubleQuoted(acc)
      acc.computed = true
      return
    }
    parameter.lastIndex = this.i
    const m = parameter.exec(s)
    if (m !== null) {
      this.i += m[0].length
      acc.computed = true
      return
    }
    acc.text += "$"
    this.i++
  }

  // At `$((`: arithmetic over literal numbers only. A name would be
  // evaluated recursively (`x='a[$(cmd)]'` runs cmd), so it is unreadable.
  private arithmetic(): void {
    const s = this.src
    let j = this.i + 3
    let depth = 0
    for (;;) {
      const c = s[j]
      if (c === undefined) return fail("an unterminated $(( … ))")
      if (c === "(") depth++
      else if (c === ")") {
        if (depth === 0) {
          if (s[j + 1] !== ")") return fail("a $(( … )) not closed by ))")
          this.i = j + 2
          return
        }
        depth--
      } else if (!/[0-9 \t+\-*/%<>=!&|^~?:,]/.test(c)) return fail("arithmetic expansion over names or expansions is not read")
      j++
    }
  }

  // After `$'`: decodes ANSI-C escapes the way bash does. A NUL ends bash's
  // string there, so an escape producing one makes the word computed.
  private ansiC(acc: Scanned): void {
    const s = this.src
    const simple: Record<string, string> = { a: "\x07", b: "\b", e: "\x1b", E: "\x1b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", "'": "'", '"': '"', "?": "?" }
    for (;;) {
      const c = s[this.i]
      if (c === undefined) return fail("an unterminated $'…'")
      if (c === "'") {
        this.i++
        return
      }
      if (c !== "\\") {
        acc.text += c
        this.i++
        continue
      }
      const e = s[this.i + 1]
      if (e === undefined) return fail("an unterminated $'…'")
      let code: number | undefined
      let len = 2
      if (simple[e] !== undefined) {
        acc.text += simple[e]
        this.i += 2
        continue
      }
      let m: RegExpExecArray | null
      if ((m = /^[0-7]{1,3}/.exec(s.slice(this.i + 1, this.i + 4))) !== null) {
        code = parseInt(m[0], 8) & 0xff
        len = 1 + m[0].length
      } else if (e === "x" && (m = /^[0-9A-Fa-f]{1,2}/.exec(s.slice(this.i + 2, this.i + 4))) !== null) {
        code = parseInt(m[0], 16)
        len = 2 + m[0].length
      } else if ((e === "u" || e === "U") && (m = new RegExp(`^[0-9A-Fa-f]{1,${e === "u" ? 4 : 8}}`).exec(s.slice(this.i + 2, this.i + 10))) !== null) {
        code = parseInt(m[0], 16)
        len = 2 + m[0].length
      } else {
        // `\c`, `\x` without digits and unknown escapes: bash's exact reading
        // is not worth copying; the word is computed.
        acc.computed = true
        this.i += 2
        continue
      }
      // Bytes above 0x7f and code points form UTF-8 or locale-dependent text.
      if (code === 0 || code > 0x7f) acc.computed = true
      else acc.text += String.fromCharCode(code)
      this.i += len
    }
  }

  // After `$(` or `<(`: the commands up to the matching `)`.
  private substitution(): void {
    if (this.subst + this.nesting >= maxNesting) fail(`substitutions nest deeper than ${maxNesting} levels`)
    this.subst++
    this.sequence(true)
    this.subst--
  }

  // At a backquote: bash removes the backslash before $, ` and \ (and " inside
  // double quotes), then reads the result as a script.
  private backtick(inDouble: boolean): void {
    const s = this.src
    let j = this.i + 1
    let body = ""
    for (;;) {
      const c = s[j]
      if (c === undefined) return fail("an unterminated backquote")
      if (c === "`") break
      if (c === "\\") {
        const n = s[j + 1]
        if (n === undefined) return fail("an unterminated backquote")
        if (n === "$" || n === "`" || n === "\\" || (inDouble && n === '"')) {
          body += n
          j += 2
          continue
        }
        if (n === "\n") fail("a line continuation inside backquotes")
      }
      body += c
      j++
    }
    this.i = j + 1
    new Reader(body, this.out, this.nesting + this.subst + 1).readAll()
  }
}

/**
 * Splits a rule specifier into words: quotes removed, `*` kept as written
 * (it is the rule's wildcard). `undefined` when it is not a plain list of
 * words.
 */
export const ruleWords = (src: string): ReadonlyArray<string> | undefined => {
  if (src.includes("\u0000") || src.includes("\r")) return undefined
  const out: Array<Raw> = []
  try {
    new Reader(src, out, 0, true).readAll()
  } catch {
    return undefined
  }
  if (out.length !== 1) return undefined
  const only = out[0]!
  if (only._tag !== "Simple" || only.assigns.length > 0 || only.redirects.length > 0) return undefined
  if (only.words.some((w) => w === undefined)) return undefined
  return only.words as ReadonlyArray<string>
}
