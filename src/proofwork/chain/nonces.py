"""Nonces for one key used by several processes at once (an oracle daemon and the CLI, a server and a
script): never two transactions with one nonce, never a nonce left as a gap.

Per (chain id, address), in a directory shared by those processes (the data directory's `nonces/`):
- a lock file, held (flock, released by the kernel even on `kill -9`) from the choice of a nonce until
  its transaction has been handed to the node, and
- a record of the nonces this machine has in flight: each with the process that sent it and until when
  that process watches it (it replaces and resends it until it is mined or it gives up).

A nonce is the node's pending transaction count or, when more, one above the highest nonce in flight
whose process is alive and still watching: a node behind a load balancer may not count a transaction
another process sent a moment ago, and a transaction the node dropped is still its sender's to resend.
A nonce is recorded only once the node has accepted its transaction (or may have: a timeout), so a
transaction refused on broadcast burns nothing; the record of a process that died is ignored, so its
nonce, if its transaction never reached a block, is used again rather than left as a gap.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from proofwork.domain.errors import ChainBusy, ChainUnavailable
from proofwork.storage.files import make_dir, write_atomic

_POLL = 0.01


@dataclass
class Reservation:
    """A nonce chosen under the lock; `sent()` records it once its transaction reached the node."""

    nonce: int
    _book: NonceBook
    recorded: bool = False

    def sent(self, watch_for: float) -> None:
        self._book._record(self.nonce, watch_for)
        self.recorded = True


class NonceBook:
    """The nonces of one address on one chain, shared by the processes of this machine."""

    def __init__(self, directory: Path, chain_id: int, address: str, *, lock_timeout: float = 30.0) -> None:
        self.directory = directory
        name = f"{chain_id}-{address.lower()}"
        self.lock_path = directory / f"{name}.lock"
        self.record_path = directory / f"{name}.json"
        self.lock_timeout = lock_timeout

    @contextlib.contextmanager
    def reserve(self, pending_count: Callable[[], int]) -> Iterator[Reservation]:
        """Holds the lock while the caller signs and broadcasts with the nonce it yields."""
        with self._locked():
            live = self._live_entries()
            nonce = max([pending_count(), *(int(entry["nonce"]) + 1 for entry in live)])
            yield Reservation(nonce, self)

    def retry_above(self, reservation: Reservation, pending_count: Callable[[], int]) -> None:
        """Under the lock, after the node said the nonce was used: the next free one."""
        reservation.nonce = max(reservation.nonce + 1, pending_count())

    def release(self, nonce: int) -> None:
        """The transaction with `nonce` is mined, or its sender stopped watching it."""
        with self._locked():
            entries = [e for e in self._live_entries() if e["nonce"] != nonce or e["pid"] != os.getpid()]
            self._write(entries)

    # --- the record, only ever read or written under the lock --------------------------------------

    def _record(self, nonce: int, watch_for: float) -> None:
        entries = [e for e in self._live_entries() if e["nonce"] != nonce]
        entries.append({"nonce": nonce, "pid": os.getpid(), "until": time.time() + watch_for})
        self._write(entries)

    def _live_entries(self) -> list[dict[str, int | float]]:
        """The nonces in flight whose sender is alive and watching (the others are forgotten)."""
        try:
            entries = json.loads(self.record_path.read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            return []  # a damaged record only loses the lead over the node's count; it is rewritten
        if not isinstance(entries, list):
            return []
        now = time.time()
        return [
            e
            for e in entries
            if isinstance(e, dict)
            and isinstance(e.get("nonce"), int)
            and isinstance(e.get("pid"), int)
            and isinstance(e.get("until"), int | float)
            and e["until"] > now
            and _alive(e["pid"])
        ]

    def _write(self, entries: list[dict[str, int | float]]) -> None:
        # not fsynced: after a crash of the machine no process is left watching any of them
        try:
            write_atomic(self.record_path, json.dumps(entries).encode(), durable=False)
        except OSError as exc:
            raise ChainUnavailable(f"cannot write {self.record_path}: {exc.strerror}") from exc

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # a new open file each time: flock then also keeps apart two threads of one process
        make_dir(self.directory)
        info = os.lstat(self.directory)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            # in a shared temporary directory another user could have made it first
            raise ChainUnavailable(
                f"{self.directory} is not a directory of this user's: not sharing nonces there"
            )
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise ChainUnavailable(f"cannot open lock file {self.lock_path}: {exc.strerror}") from exc
        deadline = time.monotonic() + self.lock_timeout
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise ChainUnavailable(f"cannot lock {self.lock_path}: {exc.strerror}") from exc
                if time.monotonic() >= deadline:
                    raise ChainBusy(
                        f"another process holds the nonces of this account ({self.lock_path}); "
                        f"gave up after waiting {self.lock_timeout:g}s"
                    )
                time.sleep(_POLL)
            try:
                yield
            finally:
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True
