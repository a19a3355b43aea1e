"""A warm, isolated process that turns untrusted submissions into predictions.

`Sandbox.start()` launches one long-lived worker (`worker.py`, a fork server) that has already
imported numpy, onnx, onnxruntime and pyarrow. Each job runs in a child forked from it with
its own rlimits (address space, CPU seconds, file size, no core); the worker enforces the
wall clock and the output size, kills whatever a job leaves behind, and survives any child
crash. If the worker itself dies or stops answering, it is killed and the next job starts a
new one. Job inputs are files in a per-job directory; outputs come back as .npy bytes over
the worker's stdout (never unpickled).

Isolation, best first (`Sandbox.isolation` says which one is used):

- "bubblewrap": `bwrap --unshare-all --unshare-user --disable-userns --die-with-parent
  --new-session --cap-drop ALL --uid 65534`: no network (own network namespace), own
  pid/ipc/uts namespaces, no capabilities; a read-only root holding only the shared libraries
  (/usr/lib*), the Python installation, its site-packages and proofwork; the job inputs
  read-only under /jobs/in; a 64 MiB tmpfs on /tmp; no /etc, /home or repository. On x86-64 a
  seccomp filter also refuses ptrace, mount and namespace calls, kernel keyrings, eBPF, perf,
  io_uring, module loading and every socket but AF_UNIX (`Sandbox.seccomp`).
- "unshare": `unshare -n` (no network) plus the rlimits.
- "rlimits": the rlimits only.
Outside bubblewrap, a root host process runs jobs as uid 65534 when that user can read the
Python installation; otherwise jobs keep its uid.

Host-side, `run` is serialised by a lock: one job at a time per sandbox. The worker is bound
to the thread that started it (bubblewrap's --die-with-parent): if that thread ends, the
worker dies and the next job starts another.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from proofwork.domain.errors import ProofworkError
from proofwork.evaluation.worker import BOOTSTRAP

ISOLATIONS = ("bubblewrap", "unshare", "rlimits")
MiB = 1 << 20
JOBS_IN = "/jobs/in"
TMPFS_BYTES = 64 * MiB
THP_SYSFS = "/sys/kernel/mm/transparent_hugepage"
START_TIMEOUT = 60.0
REPLY_GRACE = 15.0  # beyond a job's wall limit, how long the host waits for the worker's answer
MAX_REPLY_HEADER = 1 << 20
_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass(frozen=True)
class JobLimits:
    memory_mb: int = 1024  # on top of what the warm worker already maps
    cpu_seconds: int = 60
    wall_seconds: int = 120
    max_output_bytes: int = 256 * MiB

    def as_json(self) -> dict[str, int]:
        return {
            "memory_mb": int(self.memory_mb),
            "cpu_seconds": int(self.cpu_seconds),
            "wall_seconds": int(self.wall_seconds),
            "max_output_bytes": int(self.max_output_bytes),
        }


@dataclass(frozen=True)
class JobResult:
    ok: bool
    array: np.ndarray | None = None
    reason: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    transient: bool = False  # the sandbox itself failed (worker died or hung): the job may be retried


class SandboxUnavailable(ProofworkError):
    """The sandbox's worker could not be started."""


def _one_line(text: object, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    line = "".join(ch if ch.isprintable() else "?" for ch in line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


# ---------------------------------------------------------------- what the worker needs to see


def _python() -> str:
    return os.path.realpath(sys.executable)


def _import_paths() -> list[str]:
    """site-packages and the directory holding the proofwork package, for the worker's sys.path."""
    import proofwork

    paths: list[str] = []
    for key in ("purelib", "platlib"):
        p = sysconfig.get_paths().get(key)
        if p and os.path.isdir(p):
            paths.append(os.path.realpath(p))
    paths.append(str(Path(proofwork.__file__).resolve().parents[1]))
    return list(dict.fromkeys(paths))


def _world_readable(path: str) -> bool:
    """Whether any user can list `path` and every directory above it."""
    current = Path(path)
    for p in (current, *current.parents):
        try:
            if p.stat().st_mode & 0o005 != 0o005:
                return False
        except OSError:
            return False
    return True


def private_tempdir(kind: str, parent: Path | None = None) -> Path:
    """A fresh 0700 directory `proofwork-<kind>-<pid>-*`; first removes those of processes that are
    gone (killed before they could clean up)."""
    base = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    for old in base.glob(f"proofwork-{kind}-*-*"):
        pid = old.name.split("-")[2]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(old, ignore_errors=True)
        except PermissionError:
            continue
    return Path(tempfile.mkdtemp(prefix=f"proofwork-{kind}-{os.getpid()}-", dir=base))


def _covered(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _bwrap_binds() -> list[str]:
    args: list[str] = []
    roots: list[str] = []
    # shared libraries only (libc, libstdc++, libgomp...): not /usr/bin, /usr/share or /etc
    for d in ("/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
            roots.append(d)
    prefix = os.path.realpath(sys.base_prefix)
    wanted = [prefix, os.path.dirname(_python()), *_import_paths()]
    for p in wanted:
        if os.path.isdir(p) and not _covered(p, roots):
            args += ["--ro-bind", p, p]
            roots.append(p)
    return args


def _worker_env() -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "ARROW_DEFAULT_MEMORY_POOL": "system",
        # malloc asks for transparent huge pages: each job's fresh heap faults in 2 MiB at a time
        "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1",
    }
    env.update({k: "1" for k in _THREAD_ENV})
    if os.environ.get("PROOFWORK_SANDBOX_DEBUG"):
        env["PROOFWORK_SANDBOX_DEBUG"] = "1"
    return env


# ---------------------------------------------------------------- seccomp: syscalls no job needs

_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_SYSCALL_BIT = 0x40000000
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_EPERM = 0x00050000 | 1
_SOCKET = 41
_AF_UNIX = 1
# x86-64 numbers: debugging other processes, kernel keyrings, eBPF, perf, userfaultfd, mounts and
# namespaces, modules, kexec, io_uring, file handles, swap, reboot, syslog, personality.
_DENIED_X86_64 = (
    101, 310, 311, 312, 438, 440,  # ptrace, process_vm_readv/writev, kcmp, pidfd_getfd, process_madvise
    248, 249, 250,  # add_key, request_key, keyctl
    321, 298, 323,  # bpf, perf_event_open, userfaultfd
    165, 166, 155, 161, 272, 308,  # mount, umount2, pivot_root, chroot, unshare, setns
    428, 429, 430, 431, 432, 433, 442,  # open_tree, move_mount, fsopen, fsconfig, fsmount, fspick, mount_setattr
    175, 176, 313, 246, 320,  # init/delete/finit_module, kexec_load, kexec_file_load
    425, 426, 427,  # io_uring_setup/enter/register
    303, 304,  # name_to_handle_at, open_by_handle_at
    167, 168, 169, 163, 103, 135, 153, 179, 300,  # swapon/off, reboot, acct, syslog, personality, vhangup, quotactl, fanotify_init
)  # fmt: skip


def seccomp_program() -> bytes | None:
    """A classic-BPF seccomp filter (x86-64 only, else None) for bubblewrap's --seccomp.

    Denied calls fail with EPERM; `socket` is allowed for AF_UNIX only; other ABIs (x32, i386)
    are refused outright.
    """
    import platform
    import struct

    if platform.machine() != "x86_64":
        return None
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JGE|K, BPF_RET|K
    code: list[tuple[int, str | int, str | int, int]] = [
        (ld, 0, 0, 4),  # seccomp_data.arch
        (jeq, 0, "deny", _AUDIT_ARCH_X86_64),
        (ld, 0, 0, 0),  # seccomp_data.nr
        (jge, "deny", 0, _X32_SYSCALL_BIT),
        *((jeq, "deny", 0, nr) for nr in _DENIED_X86_64),
        (jeq, 0, "allow", _SOCKET),
        (ld, 0, 0, 16),  # seccomp_data.args[0] (low 32 bits): the address family
        (jeq, "allow", "deny", _AF_UNIX),
    ]
    labels = {"allow": len(code), "deny": len(code) + 1}
    code += [(ret, 0, 0, _SECCOMP_RET_ALLOW), (ret, 0, 0, _SECCOMP_RET_EPERM)]

    def offset(target: str | int, at: int) -> int:
        return target if isinstance(target, int) else labels[target] - at - 1

    return b"".join(
        struct.pack("<HBBI", op, offset(jt, i), offset(jf, i), k) for i, (op, jt, jf, k) in enumerate(code)
    )


def _seccomp_file() -> IO[bytes] | None:
    program = seccomp_program()
    if program is None:
        return None
    f = tempfile.TemporaryFile()  # noqa: SIM115 - handed to bwrap by descriptor, closed by the caller
    f.write(program)
    f.flush()
    f.seek(0)
    return f


def _bwrap_command(in_dir: Path, tail: list[str], seccomp_fd: int | None = None) -> list[str]:
    bwrap = shutil.which("bwrap") or "bwrap"
    args = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--uid",
        "65534",
        "--gid",
        "65534",
        "--hostname",
        "sandbox",
        # the tmpfs comes first: a checkout or a Python under /tmp is bound on top of it, not hidden by it
        "--size",
        str(TMPFS_BYTES),
        "--tmpfs",
        "/tmp",
        *_bwrap_binds(),
        # glibc reads the THP mode from here before honouring glibc.malloc.hugetlb=1
        "--ro-bind-try",
        THP_SYSFS,
        THP_SYSFS,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--ro-bind",
        str(in_dir),
        JOBS_IN,
        "--remount-ro",
        "/",
        "--clearenv",
    ]
    for k, v in _worker_env().items():
        args += ["--setenv", k, v]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return [*args, "--chdir", "/tmp", *tail]


_PROBED: dict[str, bool] = {}


def _works(isolation: str) -> bool:
    """Whether `isolation` can start Python here (cached for the process)."""
    if isolation in _PROBED:
        return _PROBED[isolation]
    ok = True
    tail = [_python(), "-I", "-S", "-c", "pass"]
    if isolation == "bubblewrap":
        if shutil.which("bwrap") is None:
            ok = False
        else:
            with tempfile.TemporaryDirectory(prefix="proofwork-probe-") as tmp:
                seccomp = _seccomp_file()
                try:
                    fd = seccomp.fileno() if seccomp is not None else None
                    ok = _probe(_bwrap_command(Path(tmp), tail, fd), pass_fds=(fd,) if fd is not None else ())
                finally:
                    if seccomp is not None:
                        seccomp.close()
    elif isolation == "unshare":
        ok = shutil.which("unshare") is not None and _probe(["unshare", "-n", "--", *tail])
    _PROBED[isolation] = ok
    return ok


def _probe(command: list[str], pass_fds: tuple[int, ...] = ()) -> bool:
    try:
        done = subprocess.run(command, capture_output=True, timeout=30, check=False, pass_fds=pass_fds)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def detect_isolation() -> str:
    """The strongest isolation that works on this machine."""
    for isolation in ISOLATIONS[:-1]:
        if _works(isolation):
            return isolation
    return "rlimits"


# ---------------------------------------------------------------- the host side


class _Worker:
    """One running worker process and its pipes."""

    def __init__(self, proc: subprocess.Popen[bytes], log: IO[bytes]) -> None:
        self.proc = proc
        self.log = log
        assert proc.stdout is not None and proc.stdin is not None
        self.out_fd = proc.stdout.fileno()
        self.stdin = proc.stdin
        self.buf = bytearray()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        ready, _, _ = select.select([self.out_fd], [], [], remaining)
        if not ready:
            raise TimeoutError
        chunk = os.read(self.out_fd, 1 << 20)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def read_line(self, deadline: float) -> bytes:
        while True:
            newline = self.buf.find(b"\n")
            if newline >= 0:
                line = bytes(self.buf[:newline])
                del self.buf[: newline + 1]
                return line
            if len(self.buf) > MAX_REPLY_HEADER:
                raise EOFError
            self._fill(deadline)

    def read_exact(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            self._fill(deadline)
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def send(self, message: dict[str, Any]) -> None:
        self.stdin.write(json.dumps(message).encode() + b"\n")
        self.stdin.flush()

    def stop(self, grace: float = 2.0) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.stdin.close()
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
        self._close_pipes()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self._close_pipes()

    def _close_pipes(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError, ValueError):
                if stream is not None:
                    stream.close()
        with contextlib.suppress(OSError):
            self.log.close()


def _finalize(state: dict[str, Any]) -> None:
    worker = state.get("worker")
    if worker is not None:
        worker.kill()
    workdir = state.get("workdir")
    if workdir is not None and state.get("own_workdir"):
        shutil.rmtree(workdir, ignore_errors=True)


class Sandbox:
    """A warm fork-server sandbox; use as a context manager, or `Sandbox.one_shot(...)`."""

    def __init__(
        self,
        isolation: str | None = None,
        *,
        workdir: Path | str | None = None,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        if isolation is None:
            isolation = detect_isolation()
        elif isolation not in ISOLATIONS:
            raise ProofworkError(
                f"unknown sandbox isolation {isolation!r}: expected one of {', '.join(ISOLATIONS)}"
            )
        elif isolation != "rlimits" and not _works(isolation):
            raise SandboxUnavailable(f"{isolation} isolation does not work on this machine")
        self._isolation = isolation
        self._start_timeout = start_timeout
        self._lock = threading.RLock()
        self._given_workdir = Path(workdir) if workdir is not None else None
        self._state: dict[str, Any] = {"worker": None, "workdir": None, "own_workdir": False}
        self._finalizer = weakref.finalize(self, _finalize, self._state)
        self.starts = 0
        self.jobs = 0
        self.seccomp = False  # whether the running worker is under the seccomp filter

    @property
    def isolation(self) -> str:
        return self._isolation

    @property
    def running(self) -> bool:
        worker = self._state["worker"]
        return worker is not None and worker.alive()

    @property
    def restarts(self) -> int:
        return max(0, self.starts - 1)

    @property
    def _drop_uid(self) -> bool:
        """Outside bubblewrap, jobs of a root host process run as nobody, if nobody can read Python."""
        if self._isolation == "bubblewrap" or os.geteuid() != 0:
            return False
        return all(_world_readable(p) for p in (os.path.realpath(sys.base_prefix), *_import_paths()))

    # --- lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> Sandbox:
        with self._lock:
            if not self.running:
                self._start()
        return self

    def close(self) -> None:
        with self._lock:
            worker = self._state["worker"]
            self._state["worker"] = None
            if worker is not None:
                worker.stop()
            workdir = self._state["workdir"]
            if workdir is not None and self._state["own_workdir"]:
                shutil.rmtree(workdir, ignore_errors=True)
            self._state["workdir"] = None

    def _dirs(self) -> tuple[Path, Path]:
        workdir = self._state["workdir"]
        if workdir is None:
            workdir = private_tempdir("sandbox", self._given_workdir)
            self._state["workdir"] = workdir
            self._state["own_workdir"] = True
            (workdir / "in").mkdir()
            if self._drop_uid:  # jobs run as nobody: let them reach (only) their own job directory
                os.chmod(workdir, 0o711)
                os.chmod(workdir / "in", 0o711)
        return workdir, workdir / "in"

    def _start(self) -> None:
        old = self._state["worker"]
        if old is not None:
            old.kill()
            self._state["worker"] = None
        workdir, in_dir = self._dirs()
        inside_in = JOBS_IN if self._isolation == "bubblewrap" else str(in_dir)
        config = {
            "path": _import_paths(),
            "in_dir": inside_in,
            "clean_tmp": self._isolation == "bubblewrap",
            "drop_uid": self._drop_uid,
        }
        tail = [_python(), "-I", "-S", "-c", BOOTSTRAP, json.dumps(config)]
        env: dict[str, str] | None = _worker_env()
        seccomp = None
        pass_fds: tuple[int, ...] = ()
        if self._isolation == "bubblewrap":
            seccomp = _seccomp_file()
            pass_fds = (seccomp.fileno(),) if seccomp is not None else ()
            command = _bwrap_command(in_dir, tail, pass_fds[0] if pass_fds else None)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        elif self._isolation == "unshare":
            command = ["unshare", "-n", "--", *tail]
        else:
            command = tail
        log = open(workdir / "worker.log", "ab")  # noqa: SIM115 - owned by the worker
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                cwd=str(workdir),
                start_new_session=True,
                close_fds=True,
                pass_fds=pass_fds,
            )
        except OSError as exc:
            log.close()
            raise SandboxUnavailable(f"cannot start the sandbox worker: {exc.strerror or exc}") from exc
        finally:
            if seccomp is not None:
                seccomp.close()  # bubblewrap has read it (or has its own copy of the descriptor)
        worker = _Worker(proc, log)
        try:
            line = worker.read_line(time.monotonic() + self._start_timeout)
            hello = json.loads(line)
        except (TimeoutError, EOFError, ValueError) as exc:
            worker.kill()
            raise SandboxUnavailable(
                f"the sandbox worker did not start ({self._isolation}): {self._log_tail()}"
            ) from exc
        if not isinstance(hello, dict) or hello.get("ready") is not True:
            worker.kill()
            error = hello.get("error") if isinstance(hello, dict) else None
            raise SandboxUnavailable(f"the sandbox worker failed to start: {_one_line(error or hello)}")
        self._state["worker"] = worker
        self.seccomp = seccomp is not None
        self.starts += 1

    def _log_tail(self) -> str:
        workdir = self._state["workdir"]
        try:
            lines = (workdir / "worker.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return _one_line(lines[-1]) if lines else "no output"

    # --- jobs --------------------------------------------------------------------------------------

    def run(
        self, kind: str, params: Mapping[str, Any], files: Mapping[str, Path | bytes], limits: JobLimits
    ) -> JobResult:
        """Runs one job in a fresh child of the worker; a failure of the job is a JobResult, not an error."""
        with self._lock:
            if not self.running:
                self._start()
            _, in_dir = self._dirs()
            job_id = secrets.token_hex(16)
            job_dir = in_dir / job_id
            job_dir.mkdir(mode=0o755 if self._drop_uid else 0o700)
            try:
                for name, source in files.items():
                    self._place(job_dir / name, source)
                request = {"id": job_id, "kind": kind, "params": dict(params), "limits": limits.as_json()}
                self.jobs += 1
                return self._exchange(request, limits)
            finally:
                shutil.rmtree(job_dir, ignore_errors=True)

    def _place(self, target: Path, source: Path | bytes) -> None:
        if isinstance(source, bytes | bytearray | memoryview):
            target.write_bytes(bytes(source))
        else:
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
        if self._drop_uid:
            os.chmod(target, 0o644)

    def _exchange(self, request: dict[str, Any], limits: JobLimits) -> JobResult:
        worker: _Worker = self._state["worker"]
        try:
            worker.send(request)
        except (BrokenPipeError, OSError, ValueError):
            # the worker died between jobs: start a new one and send again, once
            self._start()
            worker = self._state["worker"]
            worker.send(request)
        deadline = time.monotonic() + limits.wall_seconds + REPLY_GRACE
        try:
            reply = json.loads(worker.read_line(deadline))
            if not isinstance(reply, dict) or reply.get("id") != request["id"]:
                raise ValueError("reply for another job")
            size = int(reply.get("payload", 0))
            if not 0 <= size <= limits.max_output_bytes + (1 << 16):
                raise ValueError("payload over the limit")
            payload = worker.read_exact(size, deadline)
        except TimeoutError:
            self._discard(worker)
            return JobResult(
                False, reason="the sandbox stopped responding while scoring this submission", transient=True
            )
        except (EOFError, ValueError, OSError):
            self._discard(worker)
            return JobResult(
                False, reason="the sandbox worker stopped while scoring this submission", transient=True
            )
        return _result(reply, payload, limits)

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        if self._state["worker"] is worker:
            self._state["worker"] = None

    def check_isolation(
        self,
        *,
        port: int | None = None,
        read: tuple[str, ...] | list[str] = (),
        write: tuple[str, ...] | list[str] = (),
        connect: tuple[tuple[str, int], ...] | list[tuple[str, int]] = (),
    ) -> dict[str, Any]:
        """What a job can reach from inside: connects to 127.0.0.1:`port` and `connect` targets,
        reads `read`, creates `write`. The worker runs it as a job kind no submission can select."""
        result = self.run(
            "isolation_check",
            {"port": port, "read": list(read), "write": list(write), "connect": [list(c) for c in connect]},
            {},
            JobLimits(memory_mb=256, cpu_seconds=10, wall_seconds=20, max_output_bytes=MiB),
        )
        if not result.ok:
            raise ProofworkError(f"the isolation check failed: {result.reason}")
        return dict(result.meta)

    @classmethod
    def one_shot(
        cls,
        kind: str,
        params: Mapping[str, Any],
        files: Mapping[str, Path | bytes],
        limits: JobLimits,
        isolation: str | None = None,
    ) -> JobResult:
        """Starts a sandbox, runs one job, stops it."""
        with cls(isolation) as sandbox:
            return sandbox.run(kind, params, files, limits)


def _result(reply: dict[str, Any], payload: bytes, limits: JobLimits) -> JobResult:
    cpu = float(reply.get("cpu_s") or 0.0)
    wall = float(reply.get("wall_s") or 0.0)

    def failed(reason: str) -> JobResult:
        return JobResult(False, reason=_one_line(reason), cpu_seconds=cpu, wall_seconds=wall)

    if reply.get("error"):
        return failed(f"the sandbox refused the job: {reply['error']}")
    sig = reply.get("signal")
    if reply.get("timed_out"):
        return failed(f"the submission ran past the wall-clock limit of {limits.wall_seconds} s")
    if reply.get("output_too_large"):
        return failed(f"the submission's output is larger than {limits.max_output_bytes / MiB:.1f} MB")
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= limits.cpu_seconds):
        return failed(f"the submission used more than the CPU-time limit of {limits.cpu_seconds} s")
    child = reply.get("child")
    if not isinstance(child, dict):
        if sig is not None:
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            hint = f", possibly over the memory limit of {limits.memory_mb} MB" if sig in (6, 7) else ""
            return failed(f"the scoring process crashed on this submission ({name}{hint})")
        return failed(f"the scoring process returned no result (exit code {reply.get('exit_code')})")
    if not child.get("ok"):
        reason = child.get("reason") or "the submission could not be scored"
        if reason == "memory":
            reason = f"the submission ran out of memory (limit {limits.memory_mb} MB)"
        return failed(reason)
    meta = child.get("meta") if isinstance(child.get("meta"), dict) else {}
    array = None
    if payload:
        try:
            array = np.load(io.BytesIO(payload), allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            return failed(f"the scoring process returned malformed output: {exc}")
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "biufU":
            return failed("the scoring process returned output of an unsupported type")
    return JobResult(True, array=array, meta=meta or {}, cpu_seconds=cpu, wall_seconds=wall)
