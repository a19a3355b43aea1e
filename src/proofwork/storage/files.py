"""Files in the data directory: one way to write them atomically and durably, read them back, lock them.

Every file proofwork keeps (keys, manifests, secrets, issuer profiles, status lists, store blocks,
files written for the user) is written by `write_atomic`: a new temporary file beside the target,
the data, fsync, rename over the target, fsync of the directory. A crash at any point leaves either
the old file or the new one, never a mix, and never a stray temporary file that a later write trips on.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from proofwork.domain.errors import DataDirCorrupted, NotFound

PRIVATE = 0o600  # keys, secrets, records only their owner may read
PUBLIC = 0o644  # what is served or shared (did.json, status lists)


def write_atomic(
    path: Path, data: bytes | Iterable[bytes], *, mode: int | None = PRIVATE, durable: bool = True
) -> Path:
    """Writes `data` (bytes, or chunks) to `path` atomically; with `durable`, also on disk when this
    returns. `mode` None takes the permissions from the umask, as a file the user asked for should.

    Raises OSError after removing the temporary file; `path` is then as it was. The caller says
    what failed (the data directory, the store, the user's output path).
    """
    directory = path.parent
    while True:
        tmp = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else 0o600)
            break
        except FileExistsError:
            continue
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            for chunk in [data] if isinstance(data, bytes | bytearray) else data:
                handle.write(chunk)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


def make_dir(path: Path, mode: int = 0o700) -> Path:
    """A directory (and its parents) with exactly `mode`; DataDirCorrupted if it cannot be made."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=mode)
        os.chmod(path, mode)
    except OSError as exc:
        raise DataDirCorrupted(f"cannot create directory {path}: {exc.strerror}") from exc
    return path


def save_file(path: Path, data: bytes, mode: int = PRIVATE) -> Path:
    """A data-directory file written atomically and durably, its directory made if needed
    (private unless the file is public); DataDirCorrupted on failure."""
    make_dir(path.parent, 0o700 if mode == PRIVATE else 0o755)
    try:
        return write_atomic(path, data, mode=mode)
    except OSError as exc:
        raise DataDirCorrupted(f"cannot write {path}: {exc.strerror}") from exc


def save_json(path: Path, value: Any, mode: int = PRIVATE) -> Path:
    """`save_file` of `value` as indented, key-sorted JSON."""
    return save_file(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode(), mode)


def read_json(path: Path, what: str) -> Any:
    """A JSON file the data directory holds: NotFound if absent, DataDirCorrupted if unreadable."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise NotFound(f"no {what} at {path}") from None
    except (OSError, ValueError) as exc:
        raise DataDirCorrupted(f"the {what} file {path} is damaged or unreadable") from exc


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on a directory (its `.lock` file), held until the block ends: two processes
    never interleave their read-modify-write of the files inside."""
    make_dir(directory)
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
