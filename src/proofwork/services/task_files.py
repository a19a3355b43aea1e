"""Fetching and publishing the artifacts an evaluation needs, and the sealed hidden labels.

The spec, the public data, the submissions and (after settlement) the labels are public
artifacts addressed by CID. Before settlement the labels travel only inside an envelope
sealed to the committee's oracles, together with the commitment's salt, so any oracle
can score and any oracle can reveal.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from proofwork.domain.errors import ArtifactCorrupted, InvalidInput, NotAllowed, NotFound
from proofwork.domain.evalspec import EvalSpec, parse_spec
from proofwork.domain.jsonsafe import safe_json_loads
from proofwork.keys.sealing import Recipient, recipient
from proofwork.storage.store import ContentStore
from proofwork.storage.unixfs import cid_of_bytes, cid_of_file, cid_to_bytes

if TYPE_CHECKING:
    from proofwork.chain.committee import CommitteeContract

MAX_SPEC_BYTES = 1 << 20
MAX_LABELS_BYTES = 256 << 20


def committee_recipients(committee: CommitteeContract) -> list[Recipient]:
    """Every oracle's published key, to seal hidden labels or entries to the whole committee."""
    keys = []
    for oracle in committee.oracles:
        public_key = committee.public_key(oracle)
        if len(public_key) != 64:
            raise NotAllowed(f"oracle {oracle} has not published its key yet: nothing can be sealed to it")
        keys.append(recipient(public_key))
    return keys


@dataclass(frozen=True)
class HiddenLabels:
    """The plaintext the client seals to the committee."""

    labels: bytes
    labels_cid: str
    salt: bytes

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "version": 1,
                "labels_cid": self.labels_cid,
                "salt": self.salt.hex(),
                "labels": base64.b64encode(self.labels).decode(),
            }
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> HiddenLabels:
        try:
            obj = safe_json_loads(data, max_bytes=2 * MAX_LABELS_BYTES, max_depth=4)
            labels = base64.b64decode(obj["labels"], validate=True)
            hidden = cls(labels, str(obj["labels_cid"]), bytes.fromhex(obj["salt"]))
        except (InvalidInput, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput("the sealed labels are not a proofwork hidden-labels document") from exc
        if len(hidden.salt) != 32:
            raise InvalidInput("the sealed labels carry a salt that is not 32 bytes")
        if cid_of_bytes(hidden.labels) != hidden.labels_cid:
            raise ArtifactCorrupted("the sealed labels do not hash to the CID they claim")
        return hidden

    @property
    def cid_bytes(self) -> bytes:
        return cid_to_bytes(self.labels_cid)


class TaskFiles:
    """Reads artifacts from the content store into a local work directory, verified by CID."""

    def __init__(self, store: ContentStore, workdir: Path) -> None:
        self.store = store
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)

    def spec_by_hash(self, spec_hash: bytes) -> tuple[EvalSpec, str]:
        """The spec whose CID digest is `spec_hash` (a job's or competition's spec hash)."""
        cid = self.store.find_by_digest(spec_hash)
        if cid is None:
            raise NotFound(f"the task spec 0x{spec_hash.hex()} is not in the artifact store")
        return parse_spec(self.store.read_bytes(cid, MAX_SPEC_BYTES)), cid

    def fetch(self, cid: str, max_bytes: int) -> Path:
        """The artifact as a local file, cached by CID; the cached copy is re-hashed before use.

        Readers tell formats apart by content (Parquet's and zip's magic bytes), not by name.
        """
        out = self.workdir / cid
        if out.exists():
            if out.stat().st_size <= max_bytes and cid_of_file(out) == cid:
                return out
            out.unlink()
        size = self.store.size(cid)
        if size > max_bytes:
            raise InvalidInput(f"artifact {cid} is {size} bytes, over the limit of {max_bytes}")
        self.store.get(cid, out)
        return out

    def fetch_by_digest(self, digest: bytes, max_bytes: int) -> Path:
        cid = self.store.find_by_digest(digest)
        if cid is None:
            raise NotFound(f"the artifact 0x{digest.hex()} is not in the artifact store")
        return self.fetch(cid, max_bytes)

    def write_temp(self, data: bytes, suffix: str) -> Path:
        """A plaintext working copy (hidden labels, an opened entry): the caller deletes it, and
        `remove_plaintext` clears what a crash left behind."""
        fd, name = tempfile.mkstemp(dir=self.workdir, suffix=suffix, prefix="plain-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return Path(name)

    def remove_plaintext(self) -> None:
        for leftover in self.workdir.glob("plain-*"):
            leftover.unlink(missing_ok=True)
