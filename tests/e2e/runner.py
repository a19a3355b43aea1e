"""Run `proofwork` the way a user does, either in this process or as a real process.

In-process (`run_in_process`) calls the console entry point `proofwork.cli.main.run(argv)` and gives it
what a fresh process would have:

* its own environment: `os.environ` is exactly the given mapping for the call, then restored;
* its own standard streams at file-descriptor level: fds 1 and 2 point at temporary files during the
  call and `sys.stdout`/`sys.stderr` are text streams over them (UTF-8; stderr `backslashreplace`, as
  Python sets them up for pipes), so Rich's console (created per invocation, on `sys.stdout`, not a
  terminal, `COLUMNS` read from the environment), `click.echo`, plain `write`s, C libraries and child
  processes all land where the user would see them; `sys.stdin` holds the given text (not a terminal);
* the warning filters of a fresh interpreter, warnings printed on its stderr;
* a root logger without handlers (as `logging.basicConfig` finds it in a new process), and the signal
  handlers as they were before the call;
* what escapes `run` as an uncaught exception becomes a traceback on stderr and exit code 1, and
  `SystemExit` its exit code, as the interpreter would do.

Output is decoded as `subprocess.run(..., text=True)` decodes it (universal newlines), so an assertion
reads the same text either way. Calls are serialised: the streams and the environment are per process.

`run_process` is the real thing (`python -m proofwork`), for where the process boundary is the point.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

_LOCK = threading.Lock()
_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
# A new interpreter's filters (no -W options, not a development build): see the `warnings` docs.
_DEFAULT_FILTERS: tuple[tuple[str, type[Warning], str], ...] = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
)


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def _decode(data: bytes | bytearray) -> str:
    """What `subprocess.run(text=True)` makes of a child's output (UTF-8 locale here)."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def run_process(argv: list[str], env: Mapping[str, str], stdin: str | None = None) -> Result:
    """`python -m proofwork ARGV` in a new process."""
    proc = subprocess.run(
        [sys.executable, "-m", "proofwork", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=300,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def run_in_process(argv: list[str], env: Mapping[str, str], stdin: str | None = None) -> Result:
    """`proofwork ARGV` through its entry point in this process, isolated as described above."""
    from proofwork.cli.main import run

    with _LOCK, _environment(env), _captured(stdin) as (out_file, err_file), _fresh_process_state():
        try:
            code = run(list(argv))
        except SystemExit as exc:
            code = _exit_code(exc)
        except KeyboardInterrupt:
            raise
        except BaseException:  # what the interpreter does with an uncaught exception
            traceback.print_exc(file=sys.stderr)
            code = 1
    return Result(code, _decode(out_file), _decode(err_file))


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _fresh_process_state() -> Iterator[None]:
    in_main_thread = threading.current_thread() is threading.main_thread()
    handlers_before = {s: signal.getsignal(s) for s in _SIGNALS} if in_main_thread else {}
    try:
        with _fresh_logging(), warnings.catch_warnings():
            warnings.resetwarnings()
            for action, category, module in reversed(_DEFAULT_FILTERS):
                warnings.filterwarnings(action, category=category, module=module)  # type: ignore[arg-type]
            # printed on the command's stderr, as the interpreter's default hook does
            warnings.showwarning = _print_warning
            yield
    finally:
        for sig, handler in handlers_before.items():
            signal.signal(sig, handler)


@contextmanager
def _fresh_logging() -> Iterator[None]:
    """The root logger without handlers at WARNING, as a new process has it (pytest puts its own on it);
    afterwards every logger as it was, and no handler left writing to the call's closed streams (a
    `logging.basicConfig` or uvicorn's `dictConfig` during the call binds them)."""
    manager = logging.Logger.manager
    loggers = [
        logging.getLogger(),
        *(lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger)),
    ]
    saved = {lg: (lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in loggers}
    root = logging.getLogger()
    root.handlers[:] = []
    root.setLevel(logging.WARNING)
    call_streams = {id(sys.stdout), id(sys.stderr)}  # the call's own (entered inside _captured)
    try:
        yield
    finally:
        for lg in [root, *(lg for lg in manager.loggerDict.values() if isinstance(lg, logging.Logger))]:
            if lg in saved:
                handlers, level, propagate, disabled = saved[lg]
                added = [h for h in lg.handlers if h not in handlers]
                lg.handlers[:] = handlers
                lg.setLevel(level)
                lg.propagate, lg.disabled = propagate, disabled
            else:
                added = [h for h in lg.handlers if id(getattr(h, "stream", None)) in call_streams]
                for handler in added:
                    lg.removeHandler(handler)
            for handler in added:
                handler.close()


def _print_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


@contextmanager
def _captured(stdin: str | None) -> Iterator[tuple[bytearray, bytearray]]:
    """fds 1 and 2 and sys.std* redirected for the call; yields two buffers filled in on exit."""
    out_buf, err_buf = bytearray(), bytearray()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    for stream in saved_streams[1:]:
        stream.flush()
    with tempfile.TemporaryFile() as out_tmp, tempfile.TemporaryFile() as err_tmp:
        saved_fds = os.dup(1), os.dup(2)
        try:
            os.dup2(out_tmp.fileno(), 1)
            os.dup2(err_tmp.fileno(), 2)
            streams = _text_stream(1, "strict"), _text_stream(2, "backslashreplace")
            sys.stdin = io.TextIOWrapper(io.BytesIO((stdin or "").encode()), encoding="utf-8")
            sys.stdout, sys.stderr = streams
            try:
                yield out_buf, err_buf
            finally:
                for stream in streams:
                    try:
                        stream.flush()
                    finally:
                        stream.close()
        finally:
            os.dup2(saved_fds[0], 1)
            os.dup2(saved_fds[1], 2)
            for fd in saved_fds:
                os.close(fd)
            sys.stdin, sys.stdout, sys.stderr = saved_streams
        for tmp, buf in ((out_tmp, out_buf), (err_tmp, err_buf)):
            tmp.seek(0)
            buf.extend(tmp.read())


def _text_stream(fd: int, errors: str) -> TextIO:
    """A text stream on a duplicate of `fd`, flushed at every line (order kept with raw fd writes)."""
    return open(os.dup(fd), "w", encoding="utf-8", errors=errors, buffering=1)
