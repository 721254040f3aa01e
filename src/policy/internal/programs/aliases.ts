/**
 * Names one program goes by: a deny or ask rule naming one name meets the
 * others (`Bash(awk:*)` denies `gawk`, `Bash(nc:*)` denies `ncat`,
 * `Bash(python3:*)` denies `python3.12` and `python`). Only deny and ask
 * rules read these views: an allow rule covers the name it spells.
 */

const groups: ReadonlyArray<ReadonlyArray<string>> = [
  ["nc", "ncat", "netcat", "nc.openbsd", "nc.traditional"],
  ["python", "python2", "python3", "pypy", "pypy3"],
  ["awk", "gawk", "mawk", "nawk", "original-awk"],
  ["node", "nodejs"],
  ["tar", "gtar", "bsdtar"],
  ["grep", "egrep", "fgrep", "rgrep"],
  ["vi", "vim", "nvim", "vim.basic", "vim.tiny", "vim.nox", "view", "rvim", "rview", "vimdiff", "ex"],
  ["pip", "pip3"],
  ["make", "gmake"],
  ["sed", "gsed"],
  ["find", "gfind"],
  ["xz", "unxz", "lzma", "unlzma", "xzcat"],
  ["gzip", "gunzip", "zcat"],
  ["bzip2", "bunzip2", "bzcat"],
  ["zstd", "unzstd", "zstdcat"],
  ["sqlite3", "sqlite"],
  ["psql", "pg"],
  ["mysql", "mariadb"],
  ["mongo", "mongosh"],
  ["rg", "ripgrep"],
  ["fd", "fdfind"],
  ["bat", "batcat"],
  ["7z", "7za", "7zr", "7zz"],
  ["emacs", "emacsclient"],
  ["docker", "docker.io"],
  ["openssl", "libressl"],
  ["telnet", "telnet.netkit"]
]

const byName = new Map<string, ReadonlyArray<string>>()
for (const group of groups) for (const name of group) byName.set(name, group)

// `python3.12`, `perl5.36`, `pip3.11`, `ruby3.1`: a versioned name is its program too.
const unversioned = (name: string): ReadonlyArray<string> => {
  const out: Array<string> = []
  const minor = name.replace(/(\d)\.\d+$/, "$1")
  if (minor !== name) out.push(minor)
  const bare = name.replace(/[0-9.]+$/, "")
  if (bare !== name && bare !== "" && /^[a-z]/.test(bare)) out.push(bare)
  return out
}

/** The other names of the program `name` (a base name) runs as; empty when it has none. */
export const aliasesOf = (name: string): ReadonlyArray<string> => {
  const out = new Set<string>()
  for (const n of [name, ...unversioned(name)]) {
    out.add(n)
    for (const alias of byName.get(n) ?? []) out.add(alias)
  }
  out.delete(name)
  return [...out]
}
