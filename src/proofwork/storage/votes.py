"""A juror's committed votes on disk, so a juror can always reveal: one small private file per seat
(`DATA_DIR/court/votes/<chain id>/<court>/<juror>/<dispute>-<round>-<seat>.json`, mode 0600 in 0700
directories), written atomically and durably (`files.save_json`) *before* the commitment is sent.

A file holds the choice and the salt; it is the only place the choice is kept until the reveal. (The
salt itself can also be derived again from the juror's key: see `chain.court.derive_salt`.)"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from proofwork.domain.errors import DataDirCorrupted
from proofwork.storage.files import read_json, save_json

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_NAME = re.compile(r"^(\d+)-(\d+)-(\d+)\.json$")


@dataclass(frozen=True)
class StoredVote:
    juror: str
    dispute: int
    round: int
    seat: int
    choice: int
    salt: str  # 0x + 64 hex digits
    commitment: str  # 0x + 64 hex digits: what was sent

    @property
    def salt_bytes(self) -> bytes:
        return bytes.fromhex(self.salt[2:])


class VoteStore:
    """The votes of every juror of one court on one chain, kept under `root`."""

    def __init__(self, root: Path, chain_id: int, court: str) -> None:
        if not _ADDRESS.match(court):
            raise ValueError(f"not an address: {court!r}")
        self.dir = root / str(int(chain_id)) / court.lower()

    def path(self, juror: str, dispute: int, round_: int, seat: int) -> Path:
        if not _ADDRESS.match(juror):
            raise ValueError(f"not an address: {juror!r}")
        for value in (dispute, round_, seat):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"not a non-negative integer: {value!r}")
        return self.dir / juror.lower() / f"{dispute}-{round_}-{seat}.json"

    def save(self, vote: StoredVote) -> Path:
        """Writes the vote (replacing one not yet accepted on chain); durable when this returns."""
        return save_json(self.path(vote.juror, vote.dispute, vote.round, vote.seat), asdict(vote))

    def load(self, juror: str, dispute: int, round_: int, seat: int) -> StoredVote | None:
        """The stored vote of a seat, None when there is none; DataDirCorrupted when unreadable."""
        path = self.path(juror, dispute, round_, seat)
        if not path.exists():
            return None
        data = read_json(path, "stored vote")
        try:
            vote = StoredVote(**data)
            salt = bytes.fromhex(vote.salt.removeprefix("0x"))
            if len(salt) != 32 or not isinstance(vote.choice, int) or not vote.salt.startswith("0x"):
                raise ValueError("salt or choice")
            if (vote.dispute, vote.round, vote.seat) != (dispute, round_, seat):
                raise ValueError("seat")
        except (TypeError, ValueError) as exc:
            raise DataDirCorrupted(f"the stored vote {path} is damaged; reveal cannot use it") from exc
        return vote

    def seats(self, juror: str) -> list[tuple[int, int, int]]:
        """(dispute, round, seat) of every vote stored for `juror`."""
        directory = self.dir / juror.lower()
        if not directory.is_dir():
            return []
        out = []
        for entry in directory.iterdir():
            match = _NAME.match(entry.name)
            if match:
                out.append((int(match[1]), int(match[2]), int(match[3])))
        return sorted(out)
