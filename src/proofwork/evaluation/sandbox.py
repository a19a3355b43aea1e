"""A warm, isolated process that turns untrusted submissions into predictions.

`Sandbox.start()` launches one long-lived worker (`worker.py`, a fork server) that has already
imported numpy, onnx, onnxruntime and pyarrow. Each job runs in a child forked from it with
its own rlimits (address space, CPU seconds, file size, processes, no core); the worker enforces
the wall clock and the output size, kills whatever a job leaves behind, and survives any child
crash. If the worker itself dies or stops answering, it is killed and the next job starts a
new one. Job inputs are files in a per-job directory; outputs come back as .npy bytes over
the worker's stdout (never unpickled).

Isolation, best first (`Sandbox.isolation` says which one is used):

- "bubblewrap": `bwrap --unshare-all --unshare-user --die-with-parent --new-session`: no network
  (own network namespace), own pid/ipc/uts namespaces; a read-only root holding only the shared
  libraries (/usr/lib*), a few device nodes, the Python installation, its site-packages and
  proofwork; the job inputs read-only under /jobs/in; no /etc, /home, repository, writable /dev
  or /dev/shm. The worker keeps CAP_SYS_ADMIN in the sandbox's user namespace only, to confine
  each job (`confine.py`): a fresh pid namespace (the job is pid 1 and cannot see or signal the
  worker), a mount namespace with its own 64 MiB noexec /tmp (gone with the job) and /proc, no
  capabilities, RLIMIT_NPROC, and a seccomp filter (x86-64) on top of the worker's: no ptrace,
  mounts, namespaces, exec, kernel keyrings, eBPF, perf, io_uring, modules, and no socket but
  AF_UNIX. When the host runs as root, the sandbox maps two users (bubblewrap's
  --userns-block-fd): the worker is root of the sandbox, jobs run as uid 65534 (also outside),
  which is what makes RLIMIT_NPROC bind (the kernel never enforces it for the host's root) and
  keeps jobs away from the worker's processes altogether.
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
from proofwork.evaluation import confine
from proofwork.evaluation.worker import BOOTSTRAP

ISOLATIONS = ("bubblewrap", "unshare", "rlimits")
MiB = 1 << 20
JOBS_IN = "/jobs/in"
JOB_TMP_BYTES = 64 * MiB  # each job's own /tmp (a tmpfs of the job's mount namespace)
JOB_TMP_INODES = 4096
JOB_UID = 65534  # confined jobs' user when the host runs as root (nobody, inside and outside)
JOB_MAX_PROCESSES = 32  # tasks (processes and threads) of one job
SANDBOX_PATH = "/usr/bin:/bin"  # the only PATH bubblewrap and the worker see
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
    max_processes: int = JOB_MAX_PROCESSES  # enforced where RLIMIT_NPROC binds (`Sandbox.process_limit`)

    def as_json(self) -> dict[str, int]:
        return {
            "memory_mb": int(self.memory_mb),
            "cpu_seconds": int(self.cpu_seconds),
            "wall_seconds": int(self.wall_seconds),
            "max_output_bytes": int(self.max_output_bytes),
            "max_processes": int(self.max_processes),
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


_LIBRARY_DIRS = ("/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32", "/lib", "/lib32", "/lib64", "/libx32")


def _bind_sources() -> list[str]:
    """The host directories bound read-only into the sandbox, each at its own path."""
    roots: list[str] = []
    # shared libraries only (libc, libstdc++, libgomp...): not /usr/bin, /usr/share or /etc
    for d in _LIBRARY_DIRS:
        if not os.path.islink(d) and os.path.isdir(d):
            roots.append(d)
    prefix = os.path.realpath(sys.base_prefix)
    for p in (prefix, os.path.dirname(_python()), *_import_paths()):
        if os.path.isdir(p) and not _covered(p, roots):
            roots.append(p)
    return roots


def _bwrap_binds() -> list[str]:
    args: list[str] = []
    for d in _LIBRARY_DIRS:
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
    sources = _bind_sources()
    # the directories above each bind, 0755 (bubblewrap would copy the host's modes: a Python
    # under /root would sit below a 0700 directory the job user cannot enter)
    parents = sorted({str(a) for p in sources for a in Path(p).parents if str(a) != "/"}, key=len)
    for d in parents:
        args += ["--perms", "0755", "--dir", d]
    for p in sources:
        args += ["--ro-bind", p, p]
    return args


def _worker_env(debug: bool = False) -> dict[str, str]:
    """The worker's whole environment; `debug` keeps its stderr (the worker reads it in the sandbox)."""
    env = {
        "PATH": SANDBOX_PATH,
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "ARROW_DEFAULT_MEMORY_POOL": "system",
        # malloc asks for transparent huge pages: each job's fresh heap faults in 2 MiB at a time
        "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1",
    }
    env.update({k: "1" for k in _THREAD_ENV})
    if debug:
        env["PROOFWORK_SANDBOX_DEBUG"] = "1"
    return env


# ---------------------------------------------------------------- seccomp: syscalls no job needs


def seccomp_program(job: bool = False) -> bytes | None:
    """The worker's seccomp filter (bubblewrap's --seccomp), or with `job` what each job adds."""
    return confine.seccomp_program(job)


def _seccomp_file() -> IO[bytes] | None:
    program = seccomp_program()
    if program is None:
        return None
    f = tempfile.TemporaryFile()  # noqa: SIM115 - handed to bwrap by descriptor, closed by the caller
    f.write(program)
    f.flush()
    f.seek(0)
    return f


def _bwrap_command(
    in_dir: Path,
    tail: list[str],
    seccomp_fd: int | None = None,
    userns_fds: tuple[int, int] | None = None,
    debug: bool = False,
) -> list[str]:
    """`userns_fds` (block, info): the caller writes the user namespace's maps (two users: the
    worker as root of the sandbox, jobs as JOB_UID); without, bubblewrap maps one user, 65534."""
    bwrap = shutil.which("bwrap") or "bwrap"
    args = [bwrap, "--unshare-all", "--unshare-user"]
    caps = ["CAP_SYS_ADMIN"]  # in the sandbox's user namespace only: to confine each job
    if userns_fds is not None:
        args += ["--userns-block-fd", str(userns_fds[0]), "--info-fd", str(userns_fds[1])]
        caps += ["CAP_SETUID", "CAP_SETGID", "CAP_KILL"]  # to run jobs as their user, and stop them
    else:
        args += ["--uid", "65534", "--gid", "65534"]
    args += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    for cap in caps:
        args += ["--cap-add", cap]
    args += [
        "--hostname",
        "sandbox",
        # read-only: the root is remounted read-only below; jobs get a /tmp of their own
        "--dir",
        "/tmp",
        "--dir",
        confine.JOB_STAGE,
        *_bwrap_binds(),
        # glibc reads the THP mode from here before honouring glibc.malloc.hugetlb=1
        "--ro-bind-try",
        THP_SYSFS,
        THP_SYSFS,
        "--proc",
        "/proc",
        # a few device nodes, nothing writable: no /dev tmpfs, no /dev/shm, no /dev/pts
        "--dir",
        "/dev",
    ]
    for node in ("null", "zero", "full", "random", "urandom"):
        args += ["--dev-bind-try", f"/dev/{node}", f"/dev/{node}"]
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
    ):
        args += ["--symlink", target, f"/dev/{name}"]
    args += [
        "--symlink",
        "/proc/self/fd/2",
        "/dev/stderr",
        "--ro-bind",
        str(in_dir),
        JOBS_IN,
        "--remount-ro",
        "/",
        "--clearenv",
    ]
    for k, v in _worker_env(debug).items():
        args += ["--setenv", k, v]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return [*args, "--chdir", "/", *tail]


def _separate_job_user(job_user: bool | None) -> bool:
    """Whether confined jobs run as JOB_UID: only a root host may map a second user, and only if
    that user can read what is bound (by default)."""
    if job_user is not None:
        return bool(job_user)
    return os.geteuid() == 0 and all(os.stat(p).st_mode & 0o005 == 0o005 for p in _bind_sources())


def _read_until_eof(fd: int, deadline: float, limit: int = 1 << 16) -> bytes:
    data = bytearray()
    while len(data) <= limit:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, 4096)
        if not chunk:
            return bytes(data)
        data += chunk
    raise ValueError("too much output on bubblewrap's info descriptor")


def _spawn_bwrap(
    in_dir: Path,
    tail: list[str],
    *,
    job_user: bool,
    timeout: float,
    debug: bool = False,
    **popen: Any,
) -> tuple[subprocess.Popen[bytes], bool]:
    """Starts bubblewrap (with the worker's seccomp filter) and, for `job_user`, maps the sandbox's
    two users while bubblewrap waits for them. Returns the process and whether seccomp applies."""
    seccomp = _seccomp_file()
    pass_fds: list[int] = [seccomp.fileno()] if seccomp is not None else []
    info_r = info_w = block_r = block_w = -1
    if job_user:
        info_r, info_w = os.pipe()
        block_r, block_w = os.pipe()
        pass_fds += [block_r, info_w]
    command = _bwrap_command(
        in_dir,
        tail,
        seccomp.fileno() if seccomp is not None else None,
        (block_r, info_w) if job_user else None,
        debug,
    )
    try:
        proc = subprocess.Popen(
            command,
            env={"PATH": SANDBOX_PATH},
            start_new_session=True,
            close_fds=True,
            pass_fds=tuple(pass_fds),
            **popen,
        )
    except OSError as exc:
        for fd in (info_r, block_w):
            if fd >= 0:
                os.close(fd)
        raise SandboxUnavailable(f"cannot start bubblewrap: {exc.strerror or exc}") from exc
    finally:
        if seccomp is not None:
            seccomp.close()  # bubblewrap has read it (or has its own copy of the descriptor)
        for fd in (info_w, block_r):
            if fd >= 0:
                os.close(fd)
    if not job_user:
        return proc, seccomp is not None
    try:
        info = json.loads(_read_until_eof(info_r, time.monotonic() + timeout))
        child = int(info["child-pid"])
        users = f"0 0 1\n{JOB_UID} {JOB_UID} 1\n"
        for name in ("uid_map", "gid_map"):
            with open(f"/proc/{child}/{name}", "w") as f:
                f.write(users)
        os.write(block_w, b"1")
    except (OSError, ValueError, KeyError, TypeError, TimeoutError) as exc:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.kill()
        proc.wait()
        raise SandboxUnavailable(
            f"cannot map the sandbox's users: {_one_line(exc) or type(exc).__name__}"
        ) from exc
    finally:
        os.close(info_r)
        os.close(block_w)
    return proc, seccomp is not None


_PROBED: dict[tuple[str, bool], bool] = {}


def _works(isolation: str, job_user: bool | None = None) -> bool:
    """Whether `isolation` can start Python here (cached for the process); for bubblewrap,
    whether a job can be confined as the worker confines each one."""
    separate = _separate_job_user(job_user)
    key = (isolation, separate if isolation == "bubblewrap" else False)
    if key in _PROBED:
        return _PROBED[key]
    ok = True
    if isolation == "bubblewrap":
        if shutil.which("bwrap") is None:
            ok = False
        else:
            package = str(Path(confine.__file__).resolve().parents[2])
            code = (
                f"import sys; sys.path[:0] = [{package!r}]; "
                f"from proofwork.evaluation.confine import probe; probe({JOB_UID if separate else None})"
            )
            tail = [_python(), "-I", "-S", "-c", code]
            with tempfile.TemporaryDirectory(prefix="proofwork-probe-") as tmp:
                try:
                    proc, _ = _spawn_bwrap(
                        Path(tmp),
                        tail,
                        job_user=separate,
                        timeout=30,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    ok = proc.wait(timeout=30) == 0
                except (SandboxUnavailable, subprocess.TimeoutExpired):
                    ok = False
    elif isolation == "unshare":
        tail = [_python(), "-I", "-S", "-c", "pass"]
        ok = shutil.which("unshare") is not None and _probe(["unshare", "-n", "--", *tail])
    _PROBED[key] = ok
    return ok


def _probe(command: list[str]) -> bool:
    try:
        done = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def detect_isolation(job_user: bool | None = None) -> str:
    """The strongest isolation that works on this machine."""
    for isolation in ISOLATIONS[:-1]:
        if _works(isolation, job_user):
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
        job_user: bool | None = None,
        debug: bool = False,
    ) -> None:
        """`job_user`: under bubblewrap, run jobs as a user of their own (JOB_UID); the default is
        to do so when the host runs as root, the only case where the sandbox can map two users.
        `debug` (PROOFWORK_SANDBOX_DEBUG) keeps the worker's stderr in its log."""
        if isolation is None:
            isolation = detect_isolation(job_user)
        elif isolation not in ISOLATIONS:
            raise ProofworkError(
                f"unknown sandbox isolation {isolation!r}: expected one of {', '.join(ISOLATIONS)}"
            )
        elif isolation != "rlimits" and not _works(isolation, job_user):
            raise SandboxUnavailable(f"{isolation} isolation does not work on this machine")
        self._isolation = isolation
        self._job_user = _separate_job_user(job_user)
        self._start_timeout = start_timeout
        self._debug = debug
        self._lock = threading.RLock()
        self._given_workdir = Path(workdir) if workdir is not None else None
        self._state: dict[str, Any] = {"worker": None, "workdir": None, "own_workdir": False}
        self._finalizer = weakref.finalize(self, _finalize, self._state)
        self.starts = 0
        self.jobs = 0
        self.seccomp = False  # whether the running worker is under the seccomp filter
        self.confined = False  # whether each job gets its own pid and mount namespaces (bubblewrap)
        self.job_uid: int | None = None  # the uid jobs run as, inside the sandbox
        self.process_limit = False  # whether RLIMIT_NPROC binds jobs (JobLimits.max_processes)

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
        return workdir, workdir / "in"

    def _start(self) -> None:
        old = self._state["worker"]
        if old is not None:
            old.kill()
            self._state["worker"] = None
        workdir, in_dir = self._dirs()
        bubblewrap = self._isolation == "bubblewrap"
        config = {
            "path": _import_paths(),
            "in_dir": JOBS_IN if bubblewrap else str(in_dir),
            "confine": {
                "job_uid": JOB_UID if self._job_user else None,
                "tmp_bytes": JOB_TMP_BYTES,
                "tmp_inodes": JOB_TMP_INODES,
            }
            if bubblewrap
            else None,
            "drop_uid": self._drop_uid,
        }
        tail = [_python(), "-I", "-S", "-c", BOOTSTRAP]
        log = open(workdir / "worker.log", "ab")  # noqa: SIM115 - owned by the worker
        deadline = time.monotonic() + self._start_timeout
        seccomp = False
        try:
            pipes: dict[str, Any] = {
                "stdin": subprocess.PIPE,
                "stdout": subprocess.PIPE,
                "stderr": log,
                "cwd": str(workdir),
            }
            if bubblewrap:
                proc, seccomp = _spawn_bwrap(
                    in_dir,
                    tail,
                    job_user=self._job_user,
                    timeout=self._start_timeout,
                    debug=self._debug,
                    **pipes,
                )
            else:
                command = ["unshare", "-n", "--", *tail] if self._isolation == "unshare" else tail
                proc = subprocess.Popen(
                    command, env=_worker_env(self._debug), start_new_session=True, close_fds=True, **pipes
                )
        except OSError as exc:
            log.close()
            raise SandboxUnavailable(f"cannot start the sandbox worker: {exc.strerror or exc}") from exc
        except SandboxUnavailable:
            log.close()
            raise
        worker = _Worker(proc, log)
        try:
            worker.send(config)  # the configuration: on stdin, not in the command line
            line = worker.read_line(deadline)
            hello = json.loads(line)
        except (TimeoutError, EOFError, ValueError, OSError) as exc:
            worker.kill()
            raise SandboxUnavailable(
                f"the sandbox worker did not start ({self._isolation}): {self._log_tail()}"
            ) from exc
        if not isinstance(hello, dict) or hello.get("ready") is not True:
            worker.kill()
            error = hello.get("error") if isinstance(hello, dict) else None
            raise SandboxUnavailable(f"the sandbox worker failed to start: {_one_line(error or hello)}")
        self._state["worker"] = worker
        self.seccomp = seccomp
        self.confined = hello.get("confined") is True
        job_uid = hello.get("job_uid")
        self.job_uid = int(job_uid) if isinstance(job_uid, int) else None
        self.process_limit = hello.get("process_limit") is True
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
            job_dir.mkdir(mode=0o700)  # the job opens its inputs before it drops its privileges
            try:
                for name, source in files.items():
                    self._place(job_dir / name, source)
                request = {"id": job_id, "kind": kind, "params": dict(params), "limits": limits.as_json()}
                self.jobs += 1
                return self._exchange(request, limits)
            finally:
                shutil.rmtree(job_dir, ignore_errors=True)

    @staticmethod
    def _place(target: Path, source: Path | bytes) -> None:
        if isinstance(source, bytes | bytearray | memoryview):
            target.write_bytes(bytes(source))
            return
        # the file a symlink names (os.link would link the symlink itself, which points nowhere
        # inside the sandbox); the job refuses anything but a regular file
        real = os.path.realpath(source)
        try:
            os.link(real, target)
        except OSError:
            shutil.copyfile(real, target)

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

    def healthy(self) -> bool:
        """Whether the sandbox runs a trivial job (a job kind no submission can select)."""
        try:
            result = self.run(
                "selftest",
                {"action": "none"},
                {},
                JobLimits(memory_mb=256, cpu_seconds=10, wall_seconds=30, max_output_bytes=MiB),
            )
        except SandboxUnavailable:
            return False
        return result.ok

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
    child = reply.get("child")
    if isinstance(child, dict) and child.get("setup_failed"):
        # the sandbox could not confine the job: not the submission's doing, worth retrying
        return JobResult(
            False,
            reason=_one_line(child.get("reason") or "the sandbox could not set up the job"),
            cpu_seconds=cpu,
            wall_seconds=wall,
            transient=True,
        )
    sig = reply.get("signal")
    if sig is None and not isinstance(child, dict) and reply.get("exit_code") in confine.EXIT_SIGNALS:
        sig = reply["exit_code"]  # a confined job ends on these signals with their number as status
    if reply.get("timed_out"):
        return failed(f"the submission ran past the wall-clock limit of {limits.wall_seconds} s")
    if reply.get("output_too_large"):
        return failed(f"the submission's output is larger than {limits.max_output_bytes / MiB:.1f} MB")
    # SIGXCPU at the soft limit; the hard limit's SIGKILL, a second later, for whatever ignored it
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= limits.cpu_seconds + 0.9):
        return failed(f"the submission used more than the CPU-time limit of {limits.cpu_seconds} s")
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
