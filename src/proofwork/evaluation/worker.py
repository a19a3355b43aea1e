"""The code that runs inside the sandbox: a fork server (zygote) that scores one job per child.

`Sandbox` (sandbox.py) starts this module once, inside bubblewrap when it can, with
`python -I -S`; its configuration (sys.path, input directory, confinement) comes as the first
line on stdin, so that nothing of the host shows in the process's command line. The zygote
imports numpy, onnx, onnxruntime and pyarrow, warms onnxruntime up on a tiny model, then serves
jobs read as JSON lines on stdin:

    {"id": hex, "kind": "onnx" | "predictions" | ..., "params": {...},
     "limits": {"memory_mb", "cpu_seconds", "wall_seconds", "max_output_bytes", "max_processes"}}

For each job it forks a child. Confined (inside bubblewrap), the child is pid 1 of a fresh pid
namespace, with a mount namespace, a /tmp and a /proc of its own, and runs as a user of its own
or with no capability left (see `confine.py`). The child starts a new session, opens its inputs
from `<in_dir>/<id>/` (regular files only, never through a symlink), drops its privileges, asks
to die with the zygote, points stdin/stdout/stderr at /dev/null, applies the job's rlimits
(address space: what the zygote already maps plus `memory_mb`; CPU seconds; file size; no core
dumps; processes), installs the job's seccomp filter, and writes one JSON header line plus the
predictions as .npy bytes into a pipe. The zygote reads that pipe up to the output limit, kills
the child's process group when the wall clock runs out, reaps it, kills any process the child
left behind (the zygote is a child subreaper), and answers the host with one JSON line plus the
payload:

    {"id", "child": {"ok", "reason", "meta", "setup_failed"} | null, "exit_code", "signal",
     "timed_out", "output_too_large", "cpu_s", "wall_s", "payload": n}  followed by n bytes

The zygote never runs untrusted bytes itself, so a crashing or hostile child cannot take it
down: it is outside the child's pid namespace (nothing to signal), not dumpable (nothing to
ptrace), and a different user when the host runs as root.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import gc
import io
import json
import os
import resource
import select
import signal
import socket
import stat
import sys
import time
from typing import Any

import numpy as np

from proofwork.domain.errors import EvaluationFailed
from proofwork.evaluation import confine
from proofwork.evaluation import submissions as subs

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
MAX_REQUEST_BYTES = 1 << 20
MAX_HEADER_BYTES = 1 << 16
MiB = 1 << 20
NOBODY = 65534

_libc: Any = None


def _prctl(option: int, arg: int) -> None:
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        _libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
    except (OSError, AttributeError):  # pragma: no cover - non-Linux
        pass


def _vm_bytes() -> int:
    with open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(b"VmSize:"):
                return int(line.split()[1]) * 1024
    return 0  # pragma: no cover


# ---------------------------------------------------------------- jobs (run in the forked child)


class Inputs:
    """A job's input files, opened before the job drops its privileges (the job user cannot
    open the host's job directory itself): name -> descriptor, or why it cannot be read."""

    def __init__(self, fds: dict[str, int], refused: dict[str, str]) -> None:
        self.fds = fds
        self.refused = refused

    @classmethod
    def open(cls, directory: str) -> Inputs:
        fds: dict[str, int] = {}
        refused: dict[str, str] = {}
        for name in os.listdir(directory):
            try:
                # never through a symlink, never blocking on a FIFO
                fd = os.open(
                    os.path.join(directory, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
                )
            except OSError as exc:
                refused[name] = "a symlink" if exc.errno == errno.ELOOP else "unreadable"
                continue
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                refused[name] = "not a regular file"
                continue
            os.set_blocking(fd, True)
            fds[name] = fd
        return cls(fds, refused)

    def fd(self, name: str, what: str) -> int:
        if name in self.fds:
            return self.fds[name]
        raise EvaluationFailed(f"{what} is not a regular file ({self.refused.get(name, 'missing')})")

    def read(self, name: str, what: str, max_bytes: int) -> bytes:
        fd = self.fd(name, what)
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise EvaluationFailed(
                f"{what} is {size / MiB:.1f} MB, over the limit of {max_bytes / MiB:.1f} MB"
            )
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(max_bytes + 1)

    def npy(self, name: str, *, mmap: bool) -> np.ndarray:
        """A trusted .npy input (written by the host): memory-mapped from its descriptor (the page
        cache's pages, no copy), or read."""
        f = os.fdopen(os.dup(self.fd(name, "an input of the job")), "rb")
        if not mmap:
            with f:
                return np.load(f, allow_pickle=False)
        version = np.lib.format.read_magic(f)
        header = (
            np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        )
        shape, fortran, dtype = header(f)
        if dtype.hasobject:
            raise EvaluationFailed("an input of the job holds Python objects")
        return np.memmap(
            f, dtype=dtype, mode="r", offset=f.tell(), shape=shape, order="F" if fortran else "C"
        )


def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=False)
    return out.getvalue()


def _job_onnx(inputs: Inputs, req: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    p, limits = req["params"], req["limits"]
    clock = [time.perf_counter()]
    features = inputs.npy("features.npy", mmap=True)
    data = inputs.read("submission", "the submission", int(p["max_submission_bytes"]))
    model = subs.unpack_submission(data, "onnx", None, int(p["max_submission_bytes"]))
    del data
    clock.append(time.perf_counter())
    info = subs.inspect_onnx(
        model,
        input_name=str(p["input"]),
        output_name=str(p["output"]),
        n_features=int(features.shape[1]),
        n_rows=int(features.shape[0]),
        memory_bytes=int(limits["memory_mb"]) * MiB,
    )
    clock.append(time.perf_counter())
    out = subs.run_onnx(model, info, features, int(limits["memory_mb"]))
    clock.append(time.perf_counter())
    payload = _npy(out)
    clock.append(time.perf_counter())
    steps = ("read", "check", "onnxruntime", "encode")
    timings = {k: round((b - a) * 1000, 2) for k, a, b in zip(steps, clock, clock[1:], strict=False)}
    meta = {
        "dtype": str(out.dtype),
        "shape": list(out.shape),
        "ms": timings,
        "page_faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt,
    }
    return {"ok": True, "meta": meta}, payload


def _job_predictions(inputs: Inputs, req: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    p = req["params"]
    data = inputs.read("submission", "the submission", int(p["max_submission_bytes"]))
    payload = subs.unpack_submission(data, "predictions", str(p["format"]), int(p["max_submission_bytes"]))
    del data
    id_column = p.get("id_column")
    out, columns = subs.read_predictions(
        payload,
        str(p["format"]),
        column=str(p["column"]),
        probabilities=bool(p["probabilities"]),
        n_rows=int(p["n_rows"]),
        max_rows=int(p["max_rows"]),
        id_column=str(id_column) if id_column else None,
        ids=inputs.npy("ids.npy", mmap=False) if id_column else None,
    )
    return {
        "ok": True,
        "meta": {"dtype": str(out.dtype), "shape": list(out.shape), "columns": columns},
    }, _npy(out)


def _job_train(inputs: Inputs, req: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Compute-to-data's training recipes: a scikit-learn classifier fitted on the (trusted) private
    features and labels with parameters the host checked (`domain.compute.RECIPES`), exported with
    skl2onnx (float32 input "input"; outputs "label" and "probabilities"). The ONNX bytes come back as
    a uint8 array. scikit-learn is imported here, in the child: the zygote stays as it is."""
    p = req["params"]
    features = inputs.npy("features.npy", mmap=False)
    labels = inputs.npy("labels.npy", mmap=False)
    hyper = dict(p["hyper"])
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    model: Any
    if p["recipe"] == "logistic_regression":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(
            C=float(hyper["C"]), max_iter=int(hyper["max_iter"]), fit_intercept=bool(hyper["fit_intercept"])
        )
    elif p["recipe"] == "gradient_boosting":
        from sklearn.ensemble import GradientBoostingClassifier

        model = GradientBoostingClassifier(
            n_estimators=int(hyper["n_estimators"]),
            learning_rate=float(hyper["learning_rate"]),
            max_depth=int(hyper["max_depth"]),
            subsample=float(hyper["subsample"]),
            random_state=int(hyper["random_state"]),
        )
    else:
        raise EvaluationFailed(f"unknown training recipe {str(p['recipe'])[:40]!r}")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings: the caller sees the model's score
        model.fit(features, labels)
    exported = to_onnx(
        model,
        initial_types=[("input", FloatTensorType([None, int(features.shape[1])]))],
        options={id(model): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    data = exported.SerializeToString()
    return {"ok": True, "meta": {"bytes": len(data)}}, _npy(np.frombuffer(data, dtype=np.uint8))


def _job_isolation_check(inputs: Inputs, req: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Reports what a job can reach: sockets, files outside its inputs, writes. Never fed a submission."""
    p = req["params"]
    report: dict[str, Any] = {"uid": os.getuid(), "pid": os.getpid()}
    with open("/proc/self/status") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    report["cap_eff"] = status.get("CapEff", "").strip()
    report["no_new_privs"] = status.get("NoNewPrivs", "").strip()
    targets = [("127.0.0.1", int(p["port"]))] if p.get("port") else []
    targets += [(str(h), int(port)) for h, port in p.get("connect", [])]
    network = {}
    for host, port in targets:
        try:
            with socket.create_connection((host, port), timeout=2):
                network[f"{host}:{port}"] = "connected"
        except OSError as exc:
            network[f"{host}:{port}"] = f"blocked: {errno.errorcode.get(exc.errno or 0, str(exc))}"
    report["network"] = network
    reads = {}
    for path in p.get("read", []):
        try:
            with open(path, "rb") as f:
                f.read(16)
            reads[path] = "read"
        except OSError as exc:
            reads[path] = f"blocked: {errno.errorcode.get(exc.errno or 0, str(exc))}"
    report["read"] = reads
    writes = {}
    for path in p.get("write", []):
        try:
            with open(path, "xb") as f:
                f.write(b"sandbox escape\n")
            writes[path] = "written"
        except OSError as exc:
            writes[path] = f"blocked: {errno.errorcode.get(exc.errno or 0, str(exc))}"
    report["write"] = writes
    report["ptrace_worker"] = _try_ptrace(os.getppid())
    try:
        report["root"] = sorted(os.listdir("/"))
        report["processes"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    except OSError:
        report["root"], report["processes"] = [], []
    return {"ok": True, "meta": report}, b""


def _try_ptrace(pid: int) -> str:
    """Attaches to `pid` (the worker) and detaches at once; what a compromised job could try."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    if libc.ptrace(16, pid, None, None) == 0:  # PTRACE_ATTACH
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
        return "attached"
    return f"blocked: {errno.errorcode.get(ctypes.get_errno(), '?')}"


def _job_selftest(inputs: Inputs, req: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Failure modes the sandbox must survive, for tests: never fed a submission."""
    action = req["params"].get("action")
    if action == "crash":
        ctypes.string_at(0)  # SIGSEGV
    elif action == "sleep":
        time.sleep(3600)
    elif action == "orphan":
        if os.fork() == 0:
            os.setsid()
            time.sleep(3600)
            os._exit(0)
    elif action == "flood":
        sys.stdout.flush()
        chunk = b"\0" * MiB
        os.write(_OUT_FD, b'{"ok": true, "meta": {}}\n')
        while True:
            os.write(_OUT_FD, chunk)
    elif action == "attack":
        # an attacker with code execution in the child (an onnxruntime bug away): the tests run
        # their exploit here, under every restriction a submission's job has
        report: dict[str, Any] = {}
        exec(compile(str(req["params"]["code"]), "<attack>", "exec"), {"report": report})
        return {"ok": True, "meta": report}, b""
    return {"ok": True, "meta": {"action": action, "pid": os.getpid()}}, _npy(np.arange(3, dtype=np.int64))


_JOBS = {
    "onnx": _job_onnx,
    "predictions": _job_predictions,
    "train": _job_train,
    "isolation_check": _job_isolation_check,
    "selftest": _job_selftest,
}
_OUT_FD = -1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _confine_child(req: dict[str, Any], config: dict[str, Any], out_fd: int) -> Inputs:
    """Everything between the fork and the job: namespaces, inputs, privileges, limits, seccomp."""
    box = config.get("confine")
    os.setsid()
    if box:
        confine.enter_job_namespaces(int(box["tmp_bytes"]), int(box["tmp_inodes"]), list(box["tmp_binds"]))
    inputs = Inputs.open(os.path.join(config["in_dir"], req["id"]))
    if box:
        confine.unmount(config["in_dir"])  # the job keeps its open files; no host path left in its mounts
        job_uid = box.get("job_uid")
        if job_uid is not None:
            os.setgroups([])
            os.setgid(int(job_uid))
            os.setuid(int(job_uid))
        confine.drop_capabilities()
    elif config.get("drop_uid"):
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after any change of user, which clears it
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if fd != 2 or not os.environ.get("PROOFWORK_SANDBOX_DEBUG"):
            os.dup2(null, fd)
    os.close(null)
    keep = {0, 1, 2, out_fd, *inputs.fds.values()}
    for name in os.listdir("/proc/self/fd"):
        if int(name) not in keep:
            with contextlib.suppress(OSError):
                os.close(int(name))
    limits = req["limits"]
    address_space = _vm_bytes() + int(limits["memory_mb"]) * MiB
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MiB, MiB))
    if box:
        confine.exit_on_signals()  # the job is pid 1 of its namespace: SIGXCPU and SIGABRT need a handler
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    if box:
        # counted per user in the sandbox's user namespace: the job's own processes (and
        # threads), plus the worker's when the job shares its user
        tasks = int(req.get("tasks_before", 0)) + int(limits.get("max_processes", 32))
        resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))
        program = confine.seccomp_program(job=True)
        if program is not None:
            confine.install_seccomp(program)
    return inputs


def _child(req: dict[str, Any], config: dict[str, Any], out_fd: int) -> None:
    """Runs in the forked child; never returns."""
    global _OUT_FD
    _OUT_FD = out_fd
    code = 0
    gc.disable()  # a short-lived process: no collections touching (copying) the zygote's pages
    try:
        inputs = _confine_child(req, config, out_fd)
    except BaseException as exc:
        header: dict[str, Any] = {
            "ok": False,
            "reason": f"the sandbox could not set up the job: {subs._one_line(exc, 160)}",
            "setup_failed": True,
        }
        payload = b""
    else:
        try:
            header, payload = _JOBS[req["kind"]](inputs, req)
        except EvaluationFailed as exc:
            header, payload = {"ok": False, "reason": str(exc)}, b""
        except MemoryError:
            header, payload = {"ok": False, "reason": "memory"}, b""
        except BaseException as exc:
            # never the text of an unexpected error: it names the scorer's files and internals
            header = {
                "ok": False,
                "reason": f"the submission could not be scored (the scorer stopped on an unexpected {type(exc).__name__})",
            }
            payload = b""
    try:
        _write_all(out_fd, json.dumps(header).encode() + b"\n")
        if payload:
            _write_all(out_fd, payload)
        os.close(out_fd)  # end of output now, not after the address space is torn down
    except BaseException:
        code = 3
    os._exit(code)


# ---------------------------------------------------------------- the zygote


class Zygote:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = dict(config)
        self.confine: dict[str, Any] | None = config.get("confine") or None
        self.pid = os.getpid()
        self.pidns = -1
        self.shares_user = False  # confined jobs run as the worker's own user (one mapped user only)
        self.process_limit = False  # whether RLIMIT_NPROC binds jobs (never for host root's uid)

    def prepare(self) -> None:
        """Confined: the worker's own pid namespace (to come back to after each job's), the mounts
        bubblewrap made under /tmp (bound again in each job's /tmp), no stray descriptor."""
        if self.confine is None:
            self.process_limit = False
            return
        self.pidns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        self.confine["tmp_binds"] = confine.top_mounts_under("/tmp")
        self.shares_user = self.confine.get("job_uid") is None
        # RLIMIT_NPROC is never enforced for the host's root: is a job's user root outside?
        job_uid = os.getuid() if self.shares_user else int(self.confine["job_uid"])
        self.process_limit = _outer_uid(job_uid) not in (None, 0)
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd > 2 and fd != self.pidns:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.config["confine"] = self.confine

    def warm_up(self) -> None:
        """Imports and first-use costs paid once, before any fork."""
        import encodings.idna  # noqa: F401 - socket name lookups, for the isolation check

        import onnx
        import onnxruntime as ort
        import pyarrow
        import pyarrow.csv
        import pyarrow.parquet  # noqa: F401
        from onnx import TensorProto, helper

        with contextlib.suppress(AttributeError):  # older onnxruntime
            ort.disable_telemetry_events()
        ort.set_default_logger_severity(3)
        graph = helper.make_graph(
            [helper.make_node("Relu", ["input"], ["output"])],
            "warm",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 2])],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, [None, 2])],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
        data = model.SerializeToString()
        info = subs.inspect_onnx(
            data, input_name="input", output_name="output", n_features=2, n_rows=3, memory_bytes=MiB
        )
        out = subs.run_onnx(data, info, np.ones((3, 2), dtype=np.float32), 1)
        _npy(out)
        onnx.checker.check_model(data)
        del model, data, info, out

    @staticmethod
    def settle() -> None:
        """Leaves a compact heap for the children: frozen objects (no copy-on-write from the
        collector) and free pages returned to the kernel (children fault in fresh, THP-backed pages)."""
        gc.collect()
        gc.freeze()
        with contextlib.suppress(OSError, AttributeError):  # not glibc
            ctypes.CDLL(None).malloc_trim(0)

    def serve(self) -> None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _prctl(PR_SET_DUMPABLE, 0)
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        stdin = sys.stdin.buffer
        stdout = sys.stdout.buffer
        self.settle()
        hello = {
            "ready": True,
            "pid": self.pid,
            "vm_mb": _vm_bytes() // MiB,
            "confined": self.confine is not None,
            "job_uid": (os.getuid() if self.shares_user else self.confine.get("job_uid"))
            if self.confine
            else None,
            "process_limit": self.process_limit,
        }
        stdout.write(json.dumps(hello).encode() + b"\n")
        stdout.flush()
        while True:
            line = stdin.readline(MAX_REQUEST_BYTES)
            if not line:
                return
            job_id = None
            try:
                req = json.loads(line)
                if not isinstance(req, dict):
                    raise ValueError("not an object")
                job_id = req.get("id")
                if req.get("kind") not in _JOBS:
                    raise ValueError(f"unknown job kind {str(req.get('kind'))[:40]!r}")
                reply, payload = self.run(req)
            except (ValueError, KeyError, TypeError) as exc:
                reply, payload = {"id": job_id, "error": f"bad request: {exc}"}, b""
            reply["payload"] = len(payload)
            stdout.write(json.dumps(reply).encode() + b"\n")
            if payload:
                stdout.write(payload)
            stdout.flush()

    def run(self, req: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        limits = req["limits"]
        wall = float(limits["wall_seconds"])
        max_output = int(limits["max_output_bytes"]) + MAX_HEADER_BYTES
        tasks_before = self._tasks() if self.confine is not None and self.shares_user else 0
        read_fd, write_fd = os.pipe()
        start = time.monotonic()
        if self.confine is not None:
            confine.unshare(confine.CLONE_NEWPID)  # the next child is pid 1 of a namespace of its own
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(read_fd)
            _child({**req, "tasks_before": tasks_before}, self.config, write_fd)
        if self.confine is not None:
            # back to the worker's own namespace for its next children (if this fails, the worker
            # exits, its job dies with it and the host starts a new worker)
            confine.setns(self.pidns, confine.CLONE_NEWPID)
        os.close(write_fd)
        buf = bytearray()
        timed_out = too_large = exited = eof = False
        try:
            pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):  # pragma: no cover - kernels before 5.3
            pidfd = None
        os.set_blocking(read_fd, False)
        poller = select.poll()
        poller.register(read_fd, select.POLLIN)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        deadline = start + wall
        while not eof:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            wait_ms = remaining * 1000 if pidfd is not None else min(remaining, 0.005) * 1000
            for fd, _ in poller.poll(max(1, int(wait_ms))):
                if fd == pidfd:
                    exited = True
                    poller.unregister(pidfd)
            eof = self._drain(read_fd, buf)
            if len(buf) > max_output:
                too_large = True
                break
            if pidfd is None and not exited:
                exited = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
            if exited and not eof:
                # the child is gone; a descendant may still hold the pipe: take what is there
                eof = self._drain(read_fd, buf)
                break
        if timed_out or too_large or not eof:
            self._kill(pid)
        _, status, usage = os.wait4(pid, 0)
        wall_s = time.monotonic() - start
        os.close(read_fd)
        if pidfd is not None:
            os.close(pidfd)
        self._reap_strays()
        child, payload = None, b""
        if not (timed_out or too_large):
            child, payload = self._parse_child(bytes(buf))
        reply = {
            "id": req.get("id"),
            "child": child,
            "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "timed_out": timed_out,
            "output_too_large": too_large,
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
            "wall_s": round(wall_s, 3),
            "max_rss_mb": usage.ru_maxrss // 1024,
        }
        return reply, payload

    @staticmethod
    def _drain(fd: int, buf: bytearray) -> bool:
        """Reads what the pipe holds; True at end of file."""
        while True:
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                return False
            if not chunk:
                return True
            buf += chunk

    @staticmethod
    def _kill(pid: int) -> None:
        for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                target()

    @staticmethod
    def _tasks() -> int:
        """Tasks (threads) of every process the worker sees: its own pid namespace's."""
        total = 0
        for name in os.listdir("/proc"):
            if name.isdigit():
                with contextlib.suppress(OSError):
                    total += len(os.listdir(f"/proc/{name}/task"))
        return total

    def _children(self) -> list[int]:
        pids: list[int] = []
        try:
            tasks = os.listdir("/proc/self/task")
        except OSError:  # pragma: no cover
            return pids
        for tid in tasks:
            try:
                with open(f"/proc/self/task/{tid}/children") as f:
                    pids += [int(p) for p in f.read().split()]
            except OSError:
                continue
        return pids

    def _reap_strays(self) -> None:
        """Kills and reaps every process a job left behind (they are re-parented to this subreaper)."""
        for _ in range(1000):
            strays = self._children()
            if not strays:
                break
            for pid in strays:
                self._kill(pid)
            for pid in strays:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break

    @staticmethod
    def _parse_child(data: bytes) -> tuple[dict[str, Any] | None, bytes]:
        newline = data.find(b"\n", 0, MAX_HEADER_BYTES)
        if newline < 0:
            return None, b""
        try:
            header = json.loads(data[:newline])
        except ValueError:
            return None, b""
        if not isinstance(header, dict) or not isinstance(header.get("ok"), bool):
            return None, b""
        reason = header.get("reason")
        meta = header.get("meta")
        clean = {
            "ok": header["ok"],
            "reason": reason if isinstance(reason, str) else None,
            "meta": meta if isinstance(meta, dict) else {},
            "setup_failed": header.get("setup_failed") is True,
        }
        return clean, data[newline + 1 :] if header["ok"] else b""


def _outer_uid(uid: int) -> int | None:
    """The host's uid for `uid` of this user namespace (None when it is not mapped)."""
    try:
        with open("/proc/self/uid_map") as f:
            for line in f:
                inside, outside, count = (int(x) for x in line.split())
                if inside <= uid < inside + count:
                    return outside + uid - inside
    except (OSError, ValueError):
        return None
    return None


def main(config: dict[str, Any]) -> None:
    zygote = Zygote(config)
    try:
        zygote.prepare()
        zygote.warm_up()
    except Exception as exc:
        sys.stdout.write(json.dumps({"ready": False, "error": f"{type(exc).__name__}: {exc}"}) + "\n")
        sys.stdout.flush()
        raise SystemExit(1) from exc
    zygote.serve()


# the configuration is the first line on stdin: nothing of the host in the command line
BOOTSTRAP = (
    "import json, sys; c = json.loads(sys.stdin.buffer.readline()); sys.path[:0] = c['path']; "
    "from proofwork.evaluation.worker import main; main(c)"
)
