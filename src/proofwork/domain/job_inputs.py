"""A job's input assets: the licences its client bought (or held) for the models and datasets the job
works on, recorded in the job's terms document, whose digest is the job's spec hash on chain.

The terms document is canonical JSON (`canonical_bytes`) stored by CID: anyone holding the job reads it
by the job's spec hash, checks it hashes to that, and checks each licence on chain (`input_status`): it
exists, is held by the job's client, is the recorded asset's and offer's, is neither revoked nor expired.

Pure: nothing here reads files or the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from proofwork.domain.addresses import parse_address
from proofwork.domain.assets import canonical_json
from proofwork.domain.errors import InvalidInput
from proofwork.domain.jsonsafe import safe_json_loads

TERMS_TYPE = "proofwork/job-terms"
TERMS_VERSION = 1
MAX_INPUT_ASSETS = 4  # a job names at most this many input assets (each a purchase in the posting flow)
MAX_TERMS_BYTES = 64 << 10
KINDS = ("download", "compute")  # Licensing's DOWNLOAD (0) and COMPUTE (1)

# what `input_status` answers; only VALID lets the work go on with the asset
VALID = "valid"
EXPIRED = "expired"
REVOKED = "revoked"
SURRENDERED = "surrendered"
NOT_THE_CLIENTS = "not held by the client"
MISMATCH = "not the recorded asset or offer"


@dataclass(frozen=True)
class InputAsset:
    """One input asset of a job: the licence the client holds on it, and the offer it was bought under."""

    asset_id: int
    offer_id: int
    licence_id: int
    kind: str  # "download" or "compute"
    commercial: bool
    token: str
    price: int  # what the licence cost, in `token` units

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "offer_id": self.offer_id,
            "licence_id": self.licence_id,
            "kind": self.kind,
            "commercial": self.commercial,
            "token": self.token,
            "price": str(self.price),
        }


@dataclass(frozen=True)
class JobTerms:
    """The job's public terms document: its input assets and, when it has one, its own spec (by CID,
    or only by hash when the client gave a hash)."""

    chain_id: int
    licensing: str  # the Licensing contract holding the licences
    client: str  # who holds them
    inputs: tuple[InputAsset, ...]
    spec_cid: str | None = None
    spec_hash: bytes | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": TERMS_TYPE,
            "version": TERMS_VERSION,
            "chain_id": self.chain_id,
            "licensing": self.licensing,
            "client": self.client,
            "input_assets": [i.to_dict() for i in self.inputs],
            "spec": {
                "cid": self.spec_cid,
                "hash": None if self.spec_hash is None else "0x" + self.spec_hash.hex(),
            },
        }

    def canonical_bytes(self) -> bytes:
        """The one encoding stored by CID (sorted keys, no spaces): its sha256 is the job's spec hash."""
        return canonical_json(self.to_dict())


def check_input_count(offers: int, licences: int) -> None:
    """A job names 1 to MAX_INPUT_ASSETS input assets when it names any."""
    if offers + licences > MAX_INPUT_ASSETS:
        raise InvalidInput(f"a job names at most {MAX_INPUT_ASSETS} input assets, got {offers + licences}")


def check_distinct(ids: list[int], what: str) -> None:
    seen = set()
    for i in ids:
        if i in seen:
            raise InvalidInput(f"{what} {i} is named twice")
        seen.add(i)


def is_terms_document(data: bytes) -> bool:
    """Whether `data` claims to be a job terms document (a cheap look before parsing: a job's spec hash
    may name any other file)."""
    return data.lstrip()[:1] == b"{" and TERMS_TYPE.encode() in data[:4096]


def parse_terms(data: bytes) -> JobTerms:
    """A terms document read from the store, checked as anything received from another party."""
    obj = safe_json_loads(data, max_bytes=MAX_TERMS_BYTES, max_depth=5)
    try:
        if obj["type"] != TERMS_TYPE or obj["version"] != TERMS_VERSION:
            raise InvalidInput("not a version 1 proofwork job terms document")
        raw_inputs = obj["input_assets"]
        if not isinstance(raw_inputs, list) or len(raw_inputs) > MAX_INPUT_ASSETS:
            raise InvalidInput(f"a job terms document lists at most {MAX_INPUT_ASSETS} input assets")
        inputs = tuple(
            InputAsset(
                _uint(i["asset_id"]),
                _uint(i["offer_id"]),
                _uint(i["licence_id"]),
                _kind(i["kind"]),
                _bool(i["commercial"]),
                parse_address(i["token"], "token"),
                _units(i["price"]),
            )
            for i in raw_inputs
        )
        spec = obj["spec"]
        spec_cid = spec["cid"]
        spec_hash = spec["hash"]
        if spec_cid is not None and not isinstance(spec_cid, str):
            raise InvalidInput("the spec CID is not text")
        digest = None
        if spec_hash is not None:
            digits = str(spec_hash).removeprefix("0x")
            if len(digits) != 64:
                raise InvalidInput("the spec hash is not 32 bytes")
            digest = bytes.fromhex(digits)
        return JobTerms(
            _uint(obj["chain_id"]),
            parse_address(obj["licensing"], "licensing contract"),
            parse_address(obj["client"], "client"),
            inputs,
            spec_cid,
            digest,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"a malformed job terms document: {exc}") from None


def _uint(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**256:
        raise InvalidInput(f"expected a whole number, got {value!r}")
    return value


def _units(value: Any) -> int:
    """An amount as decimal text (JSON numbers lose precision above 2**53 in many readers)."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 78:
        raise InvalidInput(f"expected an amount as decimal text, got {value!r}")
    return _uint(int(value))


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"expected true or false, got {value!r}")
    return value


def _kind(value: Any) -> str:
    if value not in KINDS:
        raise InvalidInput(f"unknown licence kind {value!r}")
    return str(value)


def input_status(
    recorded: InputAsset,
    client: str,
    *,
    holder: str,
    asset_id: int,
    offer_id: int,
    revoked: bool,
    expires_at: int,
    now: int,
) -> str:
    """Whether the recorded licence is in force for the job's client now, as the chain has it (`holder`
    empty once surrendered); the first reason it is not, else VALID. Mirrors `Licensing.is_valid`, plus
    the holder and the record."""
    if asset_id != recorded.asset_id or offer_id != recorded.offer_id:
        return MISMATCH
    if not holder:
        return SURRENDERED
    if holder.lower() != client.lower():
        return NOT_THE_CLIENTS
    if revoked:
        return REVOKED
    if expires_at and now >= expires_at:
        return EXPIRED
    return VALID
