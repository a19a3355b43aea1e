"""Confining one job inside the sandbox (Linux; the standard library only, through ctypes).

The sandbox's worker (`worker.py`) runs inside bubblewrap with CAP_SYS_ADMIN in the sandbox's
own user namespace (and, when the host runs as root, CAP_SETUID/CAP_SETGID/CAP_KILL to run jobs
under a user of their own). For each job it creates a fresh pid namespace, so the job is pid 1
of a namespace that holds nothing else; the job then:

- enters a mount namespace of its own, where /tmp is a fresh size- and inode-capped tmpfs
  mounted noexec, nosuid, nodev (what bubblewrap bound under /tmp, a checkout or a Python
  installed there, is bound again, read-only, inside it) and /proc is a new procfs of the job's
  pid namespace with /proc/sys (and the like) read-only; the mount namespace, and its /tmp with
  it, ends with the job;
- enters an IPC namespace of its own (no SysV shared memory or message queue outlives it);
- opens its input files, then unmounts the input directory;
- becomes the job user (or, with one user only, drops every capability);
- installs a seccomp filter stricter than the worker's: no mounts, no namespaces (so no user
  namespaces either), no exec, no memfd;
- sets RLIMIT_NPROC (counted per user per user namespace: only the job's own processes when
  it runs as a user of its own).

Nothing here runs untrusted bytes: it is the set-up before a job starts.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import re
import struct
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
_NAMESPACE_FLAGS = (
    CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
)

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

PR_SET_SECCOMP = 22
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SECCOMP_MODE_FILTER = 2
_CAPABILITY_VERSION_3 = 0x20080522

JOB_STAGE = "/jobs/tmp"  # an empty directory where a job's /tmp is assembled before it moves onto /tmp


class ConfineError(OSError):
    """A confinement step failed: the sandbox is broken, not the submission."""


_libc: Any = None


def _lib() -> Any:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise ConfineError(code, f"{what}: {os.strerror(code)}")


def unshare(flags: int) -> None:
    _check(_lib().unshare(ctypes.c_int(flags)), "unshare")


def setns(fd: int, nstype: int) -> None:
    _check(_lib().setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _lib().mount(
            source.encode() if source is not None else None,
            target.encode(),
            fstype.encode() if fstype is not None else None,
            ctypes.c_ulong(flags),
            data.encode() if data is not None else None,
        ),
        f"mount {target}",
    )


def unmount(target: str) -> None:
    _check(_lib().umount2(target.encode(), ctypes.c_int(MNT_DETACH)), f"unmount {target}")


def _prctl(option: int, arg2: int = 0, arg3: int | None = 0) -> int:
    return int(
        _lib().prctl(
            ctypes.c_int(option),
            ctypes.c_ulong(arg2),
            ctypes.c_void_p(arg3) if arg3 else ctypes.c_ulong(0),
            ctypes.c_ulong(0),
            ctypes.c_ulong(0),
        )
    )


def drop_capabilities() -> None:
    """No capability left: effective, permitted, inheritable and ambient sets all empty."""
    header = struct.pack("<Ii", _CAPABILITY_VERSION_3, 0)
    data = bytes(24)  # two {effective, permitted, inheritable} u32 triples
    h = ctypes.create_string_buffer(header, len(header))
    d = ctypes.create_string_buffer(data, len(data))
    _check(_lib().capset(h, d), "capset")
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)


EXIT_SIGNALS = (24, 6)  # SIGXCPU (the soft CPU limit), SIGABRT (abort(): C++ std::terminate...)


def exit_on_signals() -> None:
    """SIGXCPU and SIGABRT end the process with their number as exit status. A pid namespace's
    pid 1 ignores signals it has no handler for (abort() would end in SIGSEGV, the CPU limit only
    at the hard limit's SIGKILL): the handler is libc's _exit itself (async-signal-safe; no
    Python runs in it)."""
    libc = _lib()
    libc.signal.restype = ctypes.c_void_p
    libc.signal.argtypes = [ctypes.c_int, ctypes.c_void_p]
    handler = ctypes.cast(libc._exit, ctypes.c_void_p)
    for signum in EXIT_SIGNALS:
        if libc.signal(signum, handler) == ctypes.c_void_p(-1).value:
            raise ConfineError(ctypes.get_errno(), f"signal({signum})")


def effective_capabilities() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0  # pragma: no cover


# ---------------------------------------------------------------- mounts


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mount_points() -> list[str]:
    """Every mount point of this process's mount namespace, in mount order."""
    with open("/proc/self/mountinfo") as f:
        return [_unescape(line.split()[4]) for line in f if len(line.split()) > 4]


def top_mounts_under(prefix: str, points: list[str] | None = None) -> list[str]:
    """Mount points strictly under `prefix` that are not inside another such mount point."""
    base = prefix.rstrip("/") + "/"
    under = sorted({p for p in (points if points is not None else mount_points()) if p.startswith(base)})
    top: list[str] = []
    for p in under:
        if not any(p.startswith(t.rstrip("/") + "/") for t in top):
            top.append(p)
    return top


# what a user mapped to the host's root could write in a procfs, whatever its capabilities:
# kernel settings are checked against the file owner's uid (kernel.core_pattern runs a program
# as the host's root), so they are covered read-only, as bubblewrap covers its own /proc
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus")


def enter_job_namespaces(tmp_bytes: int, tmp_inodes: int, tmp_binds: list[str]) -> None:
    """Mount and IPC namespaces of the job's own: a fresh noexec /tmp (with `tmp_binds`, the
    read-only mounts bubblewrap put under /tmp, bound again inside it) and a procfs of the job's
    pid namespace. Must run in the job's pid namespace (the procfs shows the caller's)."""
    unshare(CLONE_NEWNS | CLONE_NEWIPC)
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing propagates back to the worker
    mount(
        "tmpfs",
        JOB_STAGE,
        "tmpfs",
        MS_NOSUID | MS_NODEV | MS_NOEXEC,
        f"size={int(tmp_bytes)},nr_inodes={int(tmp_inodes)},mode=1777",
    )
    for path in tmp_binds:
        inside = JOB_STAGE + path[len("/tmp") :]
        os.makedirs(inside, mode=0o755, exist_ok=True)
        mount(path, inside, None, MS_BIND | MS_REC)
        mount(None, inside, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    mount(JOB_STAGE, "/tmp", None, MS_MOVE)
    # a new procfs may only be mounted where an existing one is fully visible: bubblewrap covers
    # some of its subdirectories (read-only), so those covers go first, in this namespace only
    for point in sorted(top_mounts_under("/proc"), reverse=True):
        unmount(point)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_READ_ONLY:
        path = f"/proc/{name}"
        if os.path.exists(path):
            mount(path, path, None, MS_BIND | MS_REC)
            mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)


# ---------------------------------------------------------------- seccomp (classic BPF, x86-64)

AUDIT_ARCH_X86_64 = 0xC000003E
_X32_SYSCALL_BIT = 0x40000000
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_SOCKET, _CLONE, _CLONE3 = 41, 56, 435
_AF_UNIX = 1
_MOUNT, _UMOUNT2, _UNSHARE, _SETNS = 165, 166, 272, 308
_EXECVE, _EXECVEAT, _MEMFD_CREATE = 59, 322, 319

# x86-64 numbers no job or worker needs: debugging other processes, kernel keyrings, eBPF, perf,
# userfaultfd, pivot_root/chroot and the new mount API, modules, kexec, io_uring, file handles,
# swap, reboot, syslog, personality.
DENIED_ALWAYS = (
    101, 310, 311, 312, 438, 440,  # ptrace, process_vm_readv/writev, kcmp, pidfd_getfd, process_madvise
    248, 249, 250,  # add_key, request_key, keyctl
    321, 298, 323,  # bpf, perf_event_open, userfaultfd
    155, 161,  # pivot_root, chroot
    428, 429, 430, 431, 432, 433, 442,  # open_tree, move_mount, fsopen, fsconfig, fsmount, fspick, mount_setattr
    175, 176, 313, 246, 320,  # init/delete/finit_module, kexec_load, kexec_file_load
    425, 426, 427,  # io_uring_setup/enter/register
    303, 304,  # name_to_handle_at, open_by_handle_at
    167, 168, 169, 163, 103, 135, 153, 179, 300,  # swapon/off, reboot, acct, syslog, personality, vhangup, quotactl, fanotify_init
)  # fmt: skip
# what the worker itself needs (to build each job's namespaces) and a job never does
DENIED_TO_JOBS = (_MOUNT, _UMOUNT2, _UNSHARE, _SETNS, _EXECVE, _EXECVEAT, _MEMFD_CREATE)


def seccomp_program(job: bool) -> bytes | None:
    """A seccomp filter for x86-64 (None elsewhere). Denied calls fail with EPERM, `socket` is
    allowed for AF_UNIX only, other ABIs (x32, i386) are refused outright.

    `job=False`: the worker's (bubblewrap's --seccomp). `job=True`: what a job adds on top of it:
    also no mount/umount/unshare/setns, no clone into new namespaces, no exec, no memfd; clone3
    answers ENOSYS (its flags cannot be inspected; glibc then falls back to clone)."""
    if platform.machine() != "x86_64":
        return None
    ld, jeq, jge, jset, ret = (
        0x20,
        0x15,
        0x35,
        0x45,
        0x06,
    )  # BPF_LD|W|ABS, JMP|JEQ|K, JMP|JGE|K, JMP|JSET|K, RET|K
    denied = DENIED_ALWAYS + (DENIED_TO_JOBS if job else ())
    code: list[tuple[int, str | int, str | int, int] | str] = [
        (ld, 0, 0, 4),  # seccomp_data.arch
        (jeq, 0, "deny", AUDIT_ARCH_X86_64),
        (ld, 0, 0, 0),  # seccomp_data.nr
        (jge, "deny", 0, _X32_SYSCALL_BIT),
        *((jeq, "deny", 0, nr) for nr in denied),
    ]
    if job:
        code += [(jeq, "clone", 0, _CLONE), (jeq, "enosys", 0, _CLONE3)]
    code += [
        (jeq, 0, "allow", _SOCKET),
        (ld, 0, 0, 16),  # seccomp_data.args[0] (low 32 bits): the address family
        (jeq, "allow", "deny", _AF_UNIX),
    ]
    if job:
        code += ["clone", (ld, 0, 0, 16), (jset, "deny", "allow", _NAMESPACE_FLAGS)]  # args[0]: clone flags
    code += ["allow", (ret, 0, 0, _RET_ALLOW), "deny", (ret, 0, 0, _RET_ERRNO | errno.EPERM)]
    code += ["enosys", (ret, 0, 0, _RET_ERRNO | errno.ENOSYS)]
    labels: dict[str, int] = {}
    instructions: list[tuple[int, str | int, str | int, int]] = []
    for item in code:
        if isinstance(item, str):
            labels[item] = len(instructions)
        else:
            instructions.append(item)

    def offset(target: str | int, at: int) -> int:
        return target if isinstance(target, int) else labels[target] - at - 1

    return b"".join(
        struct.pack("<HBBI", op, offset(jt, i), offset(jf, i), k)
        for i, (op, jt, jf, k) in enumerate(instructions)
    )


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_seccomp(program: bytes) -> None:
    """Adds a filter to this process (filters stack: the worker's still applies). Needs
    no_new_privs, which bubblewrap sets."""
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    _check(_prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog)), "seccomp")


# ---------------------------------------------------------------- the probe bubblewrap runs once


def probe(job_uid: int | None) -> None:
    """Everything a job's confinement does, once, in a throwaway job (`Sandbox` runs this inside
    bubblewrap to decide whether the confined sandbox works here); exits non-zero if any fails."""
    import sys

    pidns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    for _ in range(2):  # twice: the worker must be able to fork again after resetting its pid namespace
        unshare(CLONE_NEWPID)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                enter_job_namespaces(1 << 20, 64, top_mounts_under("/tmp"))
                if job_uid is not None:
                    os.setgroups([])
                    os.setgid(job_uid)
                    os.setuid(job_uid)
                drop_capabilities()
                program = seccomp_program(job=True)
                if program is not None:
                    install_seccomp(program)
                ok = os.getpid() == 1 and [p for p in os.listdir("/proc") if p.isdigit()] == ["1"]
                ok = ok and bool(os.statvfs("/tmp").f_flag & os.ST_NOEXEC) and effective_capabilities() == 0
                code = 0 if ok else 2
            except BaseException as exc:
                print(f"probe: {exc}", file=sys.stderr)
            os._exit(code)
        setns(pidns, CLONE_NEWPID)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise SystemExit(3)
