/**
 * The seccomp filter every sandboxed command runs under, as the classic-BPF
 * program bubblewrap loads from `--seccomp FD` (an array of 8-byte
 * `struct sock_filter`, native endian).
 *
 * Why a filter on top of the namespaces: the kernel interfaces below are the
 * ones a process uses to get out of, or see through, a namespace sandbox
 * (make new namespaces and mount over its view, attach to another process,
 * reach the kernel keyring or load kernel programs) or to reach host
 * services through a Unix socket on a visible path or in the abstract
 * namespace. A command never needs them to build, test or edit code.
 *
 * The program, in order:
 * 1. the architecture must be the one the numbers are for (x86_64 or
 *    aarch64); any other (a 32-bit `int 0x80` call on x86_64 included) kills
 *    the process, since its numbers mean other calls;
 * 2. on x86_64, x32 calls (number ≥ 0x40000000) fail with EPERM;
 * 3. each refused call fails with EPERM (a clean error the program can
 *    report, rather than a kill that looks like a crash);
 * 4. `clone` fails with EPERM when any `CLONE_NEW*` flag is set (plain
 *    fork and threads pass); `clone3` passes its flags in memory a filter
 *    cannot read, so it fails with ENOSYS and the C library falls back to
 *    `clone` (what Docker and Chromium do too);
 * 5. `socket(AF_UNIX, …)` fails with EPERM unless Unix sockets are allowed;
 *    `socketpair` stays allowed (an unnamed pair reaches nothing);
 * 6. everything else is allowed.
 *
 * Written by hand rather than through libseccomp so that the whole rule set
 * is this page and nothing is compiled or downloaded.
 */
import * as NodeOs from "node:os"

/** Machine architectures the filter knows syscall numbers for (`process.arch` names). */
export type Arch = "x64" | "arm64"

/** The syscalls a sandboxed command may not make, by name. */
export const refusedSyscalls = [
  // new namespaces, and mounts over the sandbox's view
  "unshare",
  "setns",
  "mount",
  "umount2",
  "pivot_root",
  "chroot",
  "move_mount",
  "open_tree",
  "fsopen",
  "fsconfig",
  "fsmount",
  "fspick",
  "mount_setattr",
  // other processes' memory
  "ptrace",
  "process_vm_readv",
  "process_vm_writev",
  "pidfd_getfd",
  // the kernel keyring, kernel programs, kernel-assisted exploitation helpers
  "keyctl",
  "add_key",
  "request_key",
  "bpf",
  "perf_event_open",
  "userfaultfd",
  // io_uring performs socket and file operations the filter never sees
  "io_uring_setup",
  "io_uring_enter",
  "io_uring_register",
  // file handles bypass the mount view
  "open_by_handle_at",
  "name_to_handle_at",
  // the machine itself (already needs capabilities the sandbox drops)
  "kexec_load",
  "kexec_file_load",
  "init_module",
  "finit_module",
  "delete_module",
  "swapon",
  "swapoff",
  "reboot",
  "acct",
  "quotactl"
] as const

type Syscall = typeof refusedSyscalls[number] | "clone" | "clone3" | "socket"

/** Syscall numbers: x86_64 from `asm/unistd_64.h`, aarch64 from `asm-generic/unistd.h`. */
const numbers: Record<Arch, Record<Syscall, number>> = {
  x64: {
    unshare: 272,
    setns: 308,
    mount: 165,
    umount2: 166,
    pivot_root: 155,
    chroot: 161,
    move_mount: 429,
    open_tree: 428,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    mount_setattr: 442,
    ptrace: 101,
    process_vm_readv: 310,
    process_vm_writev: 311,
    pidfd_getfd: 438,
    keyctl: 250,
    add_key: 248,
    request_key: 249,
    bpf: 321,
    perf_event_open: 298,
    userfaultfd: 323,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
    open_by_handle_at: 304,
    name_to_handle_at: 303,
    kexec_load: 246,
    kexec_file_load: 320,
    init_module: 175,
    finit_module: 313,
    delete_module: 176,
    swapon: 167,
    swapoff: 168,
    reboot: 169,
    acct: 163,
    quotactl: 179,
    clone: 56,
    clone3: 435,
    socket: 41
  },
  arm64: {
    unshare: 97,
    setns: 268,
    mount: 40,
    umount2: 39,
    pivot_root: 41,
    chroot: 51,
    move_mount: 429,
    open_tree: 428,
    fsopen: 430,
    fsconfig: 431,
    fsmount: 432,
    fspick: 433,
    mount_setattr: 442,
    ptrace: 117,
    process_vm_readv: 270,
    process_vm_writev: 271,
    pidfd_getfd: 438,
    keyctl: 219,
    add_key: 217,
    request_key: 218,
    bpf: 280,
    perf_event_open: 241,
    userfaultfd: 282,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
    open_by_handle_at: 265,
    name_to_handle_at: 264,
    kexec_load: 104,
    kexec_file_load: 294,
    init_module: 105,
    finit_module: 273,
    delete_module: 106,
    swapon: 224,
    swapoff: 225,
    reboot: 142,
    acct: 89,
    quotactl: 60,
    clone: 220,
    clone3: 435,
    socket: 198
  }
}

/** `AUDIT_ARCH_*` values the kernel puts in `seccomp_data.arch`. */
const auditArch: Record<Arch, number> = { x64: 0xC000003E, arm64: 0xC00000B7 }

// struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }
const offsetNr = 0
const offsetArch = 4
/** The low 32 bits of args[0] (both architectures are little-endian). */
const offsetArg0 = 16

// Classic BPF opcodes (linux/bpf_common.h)
const LD_W_ABS = 0x20 // BPF_LD | BPF_W | BPF_ABS
const JEQ_K = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K = 0x35 // BPF_JMP | BPF_JGE | BPF_K
const JSET_K = 0x45 // BPF_JMP | BPF_JSET | BPF_K
const RET_K = 0x06 // BPF_RET | BPF_K

// Return values (linux/seccomp.h)
const RET_KILL_PROCESS = 0x80000000
const RET_ERRNO = 0x00050000
const RET_ALLOW = 0x7FFF0000
const EPERM = 1
const ENOSYS = 38
const AF_UNIX = 1

/** Every `CLONE_NEW*` flag `clone` takes: NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
const cloneNamespaceFlags = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000

interface Instruction {
  readonly code: number
  readonly jt: number
  readonly jf: number
  readonly k: number
}

const stmt = (code: number, k: number): Instruction => ({ code, jt: 0, jf: 0, k })
const jump = (code: number, k: number, jt: number, jf: number): Instruction => ({ code, jt, jf, k })

export interface Options {
  /** Let commands create Unix sockets (reach host services such as a Docker or database socket). */
  readonly allowUnixSockets: boolean
}

/** The architecture of this machine when the filter knows it, else `undefined`. */
export const hostArch = (): Arch | undefined =>
  process.arch === "x64" || process.arch === "arm64" ? process.arch : undefined

/** The filter program as instructions (exported for tests that read it). */
export const program = (arch: Arch, options: Options): ReadonlyArray<Instruction> => {
  const nr = numbers[arch]
  const out: Array<Instruction> = [
    stmt(LD_W_ABS, offsetArch),
    jump(JEQ_K, auditArch[arch], 1, 0),
    stmt(RET_K, RET_KILL_PROCESS),
    stmt(LD_W_ABS, offsetNr)
  ]
  if (arch === "x64") {
    // x32 ABI: the same numbers with bit 30 set.
    out.push(jump(JGE_K, 0x40000000, 0, 1), stmt(RET_K, RET_ERRNO | EPERM))
  }
  // A refused call: "if nr == n, fail; else skip the return".
  const refuse = (n: number, errno: number) => out.push(jump(JEQ_K, n, 0, 1), stmt(RET_K, RET_ERRNO | errno))
  for (const name of refusedSyscalls) refuse(nr[name], EPERM)
  refuse(nr.clone3, ENOSYS)
  // clone: look at its flags, then restore nr for the checks after it.
  out.push(
    jump(JEQ_K, nr.clone, 0, 4),
    stmt(LD_W_ABS, offsetArg0),
    jump(JSET_K, cloneNamespaceFlags, 0, 1),
    stmt(RET_K, RET_ERRNO | EPERM),
    stmt(LD_W_ABS, offsetNr)
  )
  if (!options.allowUnixSockets) {
    out.push(
      jump(JEQ_K, nr.socket, 0, 4),
      stmt(LD_W_ABS, offsetArg0),
      jump(JEQ_K, AF_UNIX, 0, 1),
      stmt(RET_K, RET_ERRNO | EPERM),
      stmt(LD_W_ABS, offsetNr)
    )
  }
  out.push(stmt(RET_K, RET_ALLOW))
  return out
}

/** The program as the bytes bubblewrap reads from `--seccomp FD`. */
export const encode = (instructions: ReadonlyArray<Instruction>): Buffer => {
  const buffer = Buffer.alloc(instructions.length * 8)
  const littleEndian = NodeOs.endianness() === "LE"
  instructions.forEach(({ code, jf, jt, k }, i) => {
    const at = i * 8
    if (littleEndian) {
      buffer.writeUInt16LE(code, at)
      buffer.writeUInt32LE(k >>> 0, at + 4)
    } else {
      buffer.writeUInt16BE(code, at)
      buffer.writeUInt32BE(k >>> 0, at + 4)
    }
    buffer.writeUInt8(jt, at + 2)
    buffer.writeUInt8(jf, at + 3)
  })
  return buffer
}
