"""Models and datasets as assets: their manifest, their shares and the royalty split (issue 13).

An asset on chain (`contracts/assets/AssetRegistry.vy`) records the CID of a manifest, a JSON document
stored by content id. The manifest names the asset's files (each by CID, sha256 and size; `encrypted`
when the stored bytes are the `keys.asset_keys` ciphertext: then `sha256` and `size` are the plaintext's,
what a licence holder checks after decrypting, and `cid` is what is stored), its kind, its licence (an
SPDX licence expression, checked against the SPDX list bundled by `license-expression`) or a custom-terms
document's CID, and a card (a Croissant dataset card or a Hugging Face model card, `domain.cards`).

A manifest read from another party is hostile until checked: `parse_manifest` bounds its size and
nesting before parsing, refuses duplicate keys, NaN and unknown fields, and names the field it refuses
in a one-line InvalidInput. `AssetManifest.canonical_bytes()` is the one encoding stored by CID, so
equal manifests have one CID.

`split_revenue` is the contract's one-level split (the reference model of `Licensing.vy`'s tests and
what the SDK shows to explain a payout); `flow_through_lineage` follows a sale up the lineage to what
each account finally gets. Integers only; every unit is accounted for.

Pure: nothing here reads files or the network.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import InvalidInput
from proofwork.domain.jsonsafe import check_nesting

BPS = 10_000  # basis points in 100 %
MAX_CREATORS = 8
MAX_PARENTS = 8
MAX_CREATOR_BPS = BPS  # creators' part of the asset's own revenue; the owner gets the rest
MAX_UPSTREAM_BPS = 5_000  # the parents' part of an asset's revenue
MAX_ROYALTY_BPS = 1_000  # ERC-2981 royalty on secondary sales

MANIFEST_VERSION = 1
MAX_MANIFEST_BYTES = 1 << 20
MAX_MANIFEST_DEPTH = 16  # the manifest, a file entry and a card nested a dozen levels (Croissant fields)
MAX_FILES = 1024
MAX_FILE_SIZE = 1 << 50  # 1 PiB: a sanity bound on a declared size
MAX_NAME_CHARS = 200
MAX_FILE_NAME_BYTES = 255  # a file name as Linux filesystems hold it (NAME_MAX)
MAX_DESCRIPTION_CHARS = 20_000
MAX_LICENSE_CHARS = 256

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1 (\x9b is CSI on some terminals)
# a file name's characters that hide or reorder what a terminal or a page shows (bidi overrides and
# isolates, zero-width spaces, BOM, line and paragraph separators); joiners stay (emoji, Persian)
_INVISIBLE = frozenset(("Cf", "Zl", "Zp"))
_JOINERS = "\u200c\u200d"
# CIDv1 (0x01), codec raw (0x55) or dag-pb (0x70), sha2-256 (0x12, 32 bytes), base32: 58 characters
# after the multibase 'b'; the last carries 3 bits and 2 zero padding bits.
_CID = re.compile(r"^b(afkrei|afybei)[a-z2-7]{51}[aeimquy4]$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_LICENSE_CHARS = re.compile(r"^[A-Za-z0-9.+\-() ]+$")


class AssetKind(IntEnum):
    """The `kind` stored on chain (uint8)."""

    MODEL = 0
    DATASET = 1

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: Any) -> AssetKind:
        """From its name ("model", "dataset") or its on-chain number; InvalidInput otherwise."""
        if isinstance(value, str):
            for kind in cls:
                if kind.label == value.strip().lower():
                    return kind
        elif isinstance(value, int) and not isinstance(value, bool):
            for kind in cls:
                if kind.value == value:
                    return kind
        raise InvalidInput(f"unknown asset kind {_show(value)}: expected model or dataset")


def _bps(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= BPS:
        raise InvalidInput(
            f"{what} must be an integer number of basis points from 0 to {BPS}, got {_show(value)}"
        )
    return value


@dataclass(frozen=True)
class Share:
    """A creator's part (in basis points) of what is left of an asset's revenue after its parents."""

    account: str
    bps: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "account", parse_address(self.account, "creator address"))
        _bps(self.bps, f"the share of creator {self.account}")


@dataclass(frozen=True)
class Parent:
    """An asset this one derives from and its part (basis points) of this asset's revenue."""

    asset_id: int
    bps: int

    def __post_init__(self) -> None:
        if isinstance(self.asset_id, bool) or not isinstance(self.asset_id, int) or self.asset_id < 1:
            raise InvalidInput(f"a parent asset id is a positive integer, got {_show(self.asset_id)}")
        _bps(self.bps, f"the share of parent asset {self.asset_id}")


def check_terms(creators: Sequence[Share], parents: Sequence[Parent], royalty_bps: int) -> None:
    """The registry's rules on an asset's shares, checked before anything is sent.

    At most 8 creators (each once) whose shares sum to at most 100 %; at most 8 parents (each once)
    whose shares sum to at most 50 %; a royalty of at most 10 %.
    """
    if len(creators) > MAX_CREATORS:
        raise InvalidInput(f"an asset has at most {MAX_CREATORS} creators, got {len(creators)}")
    if len(parents) > MAX_PARENTS:
        raise InvalidInput(f"an asset has at most {MAX_PARENTS} parents, got {len(parents)}")
    accounts = [c.account for c in creators]
    if len(set(accounts)) != len(accounts):
        raise InvalidInput("a creator is listed twice: list each creator once with their whole share")
    ids = [p.asset_id for p in parents]
    if len(set(ids)) != len(ids):
        raise InvalidInput("a parent asset is listed twice")
    creator_total = sum(c.bps for c in creators)
    if creator_total > MAX_CREATOR_BPS:
        raise InvalidInput(f"the creators' shares add up to {creator_total / 100:g} %, over 100 %")
    upstream = sum(p.bps for p in parents)
    if upstream > MAX_UPSTREAM_BPS:
        raise InvalidInput(
            f"the parents' shares add up to {upstream / 100:g} %, over the {MAX_UPSTREAM_BPS / 100:g} % "
            "an asset may pass upstream"
        )
    if (
        isinstance(royalty_bps, bool)
        or not isinstance(royalty_bps, int)
        or not 0 <= royalty_bps <= MAX_ROYALTY_BPS
    ):
        raise InvalidInput(
            f"the royalty must be an integer from 0 to {MAX_ROYALTY_BPS} basis points (10 %), got {_show(royalty_bps)}"
        )


# ---------------------------------------------------------------- the revenue split


@dataclass(frozen=True)
class Split:
    """One level of a split: what each parent (pending there), each creator and the owner get."""

    to_parents: list[int]
    to_creators: list[int]
    to_owner: int


def split_revenue(amount: int, parents: Sequence[Parent], creators: Sequence[Share]) -> Split:
    """`Licensing.vy`'s split of `amount` for one asset, exactly.

    Each parent gets `amount * bps // 10_000`; of the rest, each creator gets `rest * bps // 10_000`;
    the owner gets what remains, rounding dust included. The parts add up to `amount`.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise InvalidInput(f"an amount is a non-negative integer of token units, got {_show(amount)}")
    to_parents = [amount * p.bps // BPS for p in parents]
    rest = amount - sum(to_parents)
    to_creators = [rest * c.bps // BPS for c in creators]
    to_owner = rest - sum(to_creators)
    if to_owner < 0:  # only with shares the registry refuses
        raise InvalidInput("the shares add up to more than the amount: not an asset the registry holds")
    return Split(to_parents, to_creators, to_owner)


@dataclass(frozen=True)
class LineageNode:
    """What the split of one asset needs: its parents, its creators and its owner (at split time)."""

    owner: str
    creators: tuple[Share, ...] = ()
    parents: tuple[Parent, ...] = ()


@dataclass(frozen=True)
class Flow:
    """A sale followed up the lineage: each account's total, and each asset's one-level split."""

    to_accounts: dict[str, int]
    splits: dict[int, tuple[int, Split]] = field(default_factory=dict)  # asset -> (amount split, split)

    @property
    def total(self) -> int:
        return sum(self.to_accounts.values())


def flow_through_lineage(asset_id: int, amount: int, lineage: Mapping[int, LineageNode]) -> Flow:
    """Where `amount` paid to `asset_id` ends up once every pending share has been distributed.

    Follows `split_revenue` from the asset to its parents, theirs, and so on (the amounts
    `Licensing.distribute` would move, each asset's pending amounts summed before it is split, as one
    `distribute` call splits everything pending). `lineage` maps each asset id reached to its node; a
    parent must be older than its child (a smaller id), as the registry guarantees, so the walk ends.
    """
    if asset_id not in lineage:
        raise InvalidInput(f"asset {asset_id} is not in the lineage given")
    pending: dict[int, int] = {asset_id: amount}
    to_accounts: dict[str, int] = {}
    splits: dict[int, tuple[int, Split]] = {}
    while pending:
        current = max(pending)  # children before parents: every share reaches a parent before it splits
        value = pending.pop(current)
        node = lineage.get(current)
        if node is None:
            raise InvalidInput(f"asset {current} is not in the lineage given")
        split = split_revenue(value, node.parents, node.creators)
        splits[current] = (value, split)
        for parent, part in zip(node.parents, split.to_parents, strict=True):
            if parent.asset_id >= current:
                raise InvalidInput(
                    f"asset {current} names asset {parent.asset_id} as a parent: a parent is always older "
                    "(a lineage cycle, or not what the registry holds)"
                )
            if part:
                pending[parent.asset_id] = pending.get(parent.asset_id, 0) + part
        for share, part in zip(node.creators, split.to_creators, strict=True):
            if part:
                to_accounts[share.account] = to_accounts.get(share.account, 0) + part
        if split.to_owner:
            owner = parse_address(node.owner, "owner address")
            to_accounts[owner] = to_accounts.get(owner, 0) + split.to_owner
    return Flow(to_accounts, splits)


# ---------------------------------------------------------------- the manifest


@dataclass(frozen=True)
class AssetFile:
    """One file of an asset: `cid` of the stored bytes; `sha256` and `size` of the content itself."""

    name: str
    cid: str
    sha256: str
    size: int
    encrypted: bool = False
    media_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "cid": self.cid,
            "sha256": self.sha256,
            "size": self.size,
            "encrypted": self.encrypted,
        }
        if self.media_type is not None:
            out["media_type"] = self.media_type
        return out


@dataclass(frozen=True)
class AssetManifest:
    kind: AssetKind
    name: str
    files: tuple[AssetFile, ...]
    license: str | None = None  # a normalised SPDX licence expression
    terms_cid: str | None = None  # the CID of a custom terms document
    description: str = ""
    card: dict[str, Any] | None = field(default=None, hash=False)

    @property
    def encrypted(self) -> bool:
        return any(f.encrypted for f in self.files)

    def file_with_sha256(self, digest: bytes | str) -> AssetFile | None:
        """The file whose content hash is `digest`, if any."""
        text = _hex(digest)
        return next((f for f in self.files if f.sha256 == text), None)

    def file_for_deliverable(self, digest: bytes | str) -> AssetFile | None:
        """The file a job's deliverable hash names: by its sha256 (`job submit FILE`), or by the digest
        inside its CID (a deliverable submitted as a CID: for a file over 1 MiB, its DAG root).
        An encrypted file matches by its plaintext's sha256 only (the job delivered the plaintext)."""
        text = _hex(digest)
        return self.file_with_sha256(text) or next(
            (f for f in self.files if not f.encrypted and cid_digest(f.cid).hex() == text), None
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": MANIFEST_VERSION,
            "kind": self.kind.label,
            "name": self.name,
            "files": [f.to_dict() for f in self.files],
        }
        if self.description:
            out["description"] = self.description
        if self.license is not None:
            out["license"] = self.license
        if self.terms_cid is not None:
            out["terms_cid"] = self.terms_cid
        if self.card is not None:
            out["card"] = self.card
        return out

    def canonical_bytes(self) -> bytes:
        """The one encoding stored by CID: sorted keys, no spaces, UTF-8 (what `parse_manifest` reads back)."""
        return canonical_json(self.to_dict())


def _hex(digest: bytes | str) -> str:
    if isinstance(digest, bytes | bytearray):
        return bytes(digest).hex()
    return str(digest).strip().lower().removeprefix("0x")


def cid_digest(cid: str) -> bytes:
    """The 32-byte sha2-256 digest inside a CID `is_cid` accepts (what a bytes32 on chain commits to)."""
    if not is_cid(cid):
        raise InvalidInput(f"not a CIDv1 proofwork reads: {_show(cid)}")
    body = cid[1:].upper()
    return base64.b32decode(body + "=" * (-len(body) % 8))[4:]


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant spaces, UTF-8, no NaN: equal values, equal bytes."""
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"not JSON data: {str(exc)[:80]}") from None


def build_manifest(
    kind: AssetKind | str,
    name: str,
    files: Iterable[AssetFile],
    *,
    license: str | None = None,
    terms_cid: str | None = None,
    description: str = "",
    card: Mapping[str, Any] | None = None,
) -> AssetManifest:
    """A manifest from parts, checked by exactly the rules `parse_manifest` applies to a received one."""
    doc: dict[str, Any] = {
        "version": MANIFEST_VERSION,
        "kind": AssetKind.parse(kind).label,
        "name": name,
        "files": [f.to_dict() for f in files],
    }
    if description:
        doc["description"] = description
    if license is not None:
        doc["license"] = license
    if terms_cid is not None:
        doc["terms_cid"] = terms_cid
    if card is not None:
        doc["card"] = dict(card)
    return parse_manifest(canonical_json(doc))


def parse_manifest(data: bytes | str) -> AssetManifest:
    """A manifest received from anyone, checked; every refusal is one line naming the field."""
    doc = _load(data)
    try:
        canonical_json(doc)
    except InvalidInput:  # e.g. a lone surrogate escape ("\\ud800"): no UTF-8 encoding, so no CID
        raise InvalidInput("invalid manifest: holds text that is not valid Unicode") from None
    top = _Fields(doc, "")
    version = top.get("version")
    if isinstance(version, bool) or version != MANIFEST_VERSION:
        raise InvalidInput(
            f"invalid manifest: field 'version' must be {MANIFEST_VERSION}, got {_show(version)}"
        )
    try:
        kind = AssetKind.parse(top.get("kind"))
    except InvalidInput as exc:
        raise InvalidInput(f"invalid manifest: field 'kind': {exc}") from None
    name = top.text("name", MAX_NAME_CHARS)
    assert name is not None
    description = top.text("description", MAX_DESCRIPTION_CHARS, required=False, multiline=True) or ""
    raw_files = top.get("files")
    if not isinstance(raw_files, list) or not raw_files:
        raise InvalidInput("invalid manifest: field 'files' must be a non-empty list")
    if len(raw_files) > MAX_FILES:
        raise InvalidInput(f"invalid manifest: at most {MAX_FILES} files, got {len(raw_files)}")
    files = tuple(_file(entry, i) for i, entry in enumerate(raw_files))
    # one name on a case-insensitive or normalising filesystem (macOS, Windows) is one file there
    names = [unicodedata.normalize("NFC", f.name).lower() for f in files]
    if len(set(names)) != len(names):
        dup = next(f.name for f, n in zip(files, names, strict=True) if names.count(n) > 1)
        raise InvalidInput(
            f"invalid manifest: two files are named {dup!r} (names equal but for case or Unicode form "
            "are one file on some filesystems)"
        )
    license_text = top.text("license", MAX_LICENSE_CHARS, required=False)
    license = None
    if license_text is not None:
        try:
            license = normalize_license(license_text)
        except InvalidInput as exc:
            raise InvalidInput(f"invalid manifest: field 'license': {exc}") from None
    terms_cid = top.get("terms_cid", required=False)
    if terms_cid is not None:
        terms_cid = _cid(terms_cid, "terms_cid")
    if license is None and terms_cid is None:
        raise InvalidInput(
            "invalid manifest: give a 'license' (an SPDX licence id) or a 'terms_cid' (custom terms)"
        )
    card = top.get("card", required=False)
    if card is not None and not isinstance(card, dict):
        raise InvalidInput(f"invalid manifest: field 'card' must be a JSON object, got {_show(card)}")
    top.finish()
    return AssetManifest(kind, name, files, license, terms_cid, description, card)


def normalize_license(text: str) -> str:
    """An SPDX licence expression ("MIT", "apache-2.0", "MIT OR Apache-2.0") in its normal form.

    Checked against the SPDX licence list `license-expression` bundles; InvalidInput for an unknown id
    or a malformed expression (custom terms go in `terms_cid` instead).
    """
    value = str(text).strip()
    if not value or len(value) > MAX_LICENSE_CHARS or not _LICENSE_CHARS.match(value):
        raise InvalidInput(
            f"invalid licence {_show(text)}: expected an SPDX licence id such as MIT or Apache-2.0 "
            "(custom terms: give their CID as terms_cid)"
        )
    licensing = _spdx()
    try:
        parsed = licensing.parse(value, validate=True, strict=True)
    except Exception as exc:  # license-expression raises several types (and AttributeError on some input)
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise InvalidInput(
            f"invalid licence {_show(text)}: not a known SPDX licence expression ({reason}); "
            "custom terms: give their CID as terms_cid"
        ) from None
    if parsed is None:
        raise InvalidInput("invalid licence: empty")
    return str(parsed.render())


@functools.cache
def _spdx() -> Any:
    from license_expression import get_spdx_licensing  # its licence index loads on first use (~50 ms)

    return get_spdx_licensing()


# ---------------------------------------------------------------- parsing helpers


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InvalidInput(f"invalid manifest: key {_show(key)} appears twice")
        out[key] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise InvalidInput(f"invalid manifest: {name} is not a number a manifest may hold")


def _load(data: bytes | str) -> Any:
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if len(raw) > MAX_MANIFEST_BYTES:
            raise InvalidInput(f"invalid manifest: larger than {MAX_MANIFEST_BYTES:,} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("invalid manifest: not UTF-8 text") from None
    elif isinstance(data, str):
        if len(data.encode("utf-8", "surrogatepass")) > MAX_MANIFEST_BYTES:
            raise InvalidInput(f"invalid manifest: larger than {MAX_MANIFEST_BYTES:,} bytes")
        text = data
    else:
        raise InvalidInput(f"invalid manifest: expected bytes or text, not {type(data).__name__}")
    try:
        check_nesting(text, MAX_MANIFEST_DEPTH)
    except InvalidInput as exc:
        raise InvalidInput(f"invalid manifest: {exc}") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"invalid manifest: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except (ValueError, RecursionError) as exc:  # e.g. integers beyond int_max_str_digits
        raise InvalidInput(f"invalid manifest: not valid JSON ({str(exc)[:80]})") from None


class _Fields:
    """One JSON object of the manifest, remembering which keys were read (the others are refused)."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            where = f"field {path!r}" if path else "the manifest"
            raise InvalidInput(f"invalid manifest: {where} must be a JSON object, got {_show(value)}")
        self.value: dict[str, Any] = value
        self.path = path
        self.used: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, required: bool = True) -> Any:
        self.used.add(key)
        if key not in self.value:
            if required:
                raise InvalidInput(f"invalid manifest: field {self.name(key)!r} is missing")
            return None
        return self.value[key]

    def text(self, key: str, max_chars: int, required: bool = True, multiline: bool = False) -> str | None:
        value = self.get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(
                f"invalid manifest: field {self.name(key)!r} must be non-empty text, got {_show(value)}"
            )
        if len(value) > max_chars:
            raise InvalidInput(
                f"invalid manifest: field {self.name(key)!r} is longer than {max_chars} characters"
            )
        bad = _CONTROL.search(value.replace("\n", "").replace("\t", "") if multiline else value)
        if bad:
            raise InvalidInput(f"invalid manifest: field {self.name(key)!r} holds a control character")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.value) - self.used)
        if unknown:
            names = ", ".join(_show(self.name(k)) for k in unknown[:5])
            raise InvalidInput(f"invalid manifest: unknown field {names}")


def is_cid(value: Any) -> bool:
    """Whether `value` is a CID proofwork's store computes: CIDv1, base32, sha2-256, raw or dag-pb.

    The same set `storage.unixfs.parse_cid` accepts (a test checks both agree), written as one pattern
    so the domain stays free of adapters.
    """
    return isinstance(value, str) and _CID.match(value) is not None


def _cid(value: Any, what: str) -> str:
    if not is_cid(value):
        raise InvalidInput(
            f"invalid manifest: field {what!r} must be a CIDv1 (bafkrei... or bafybei...), got {_show(value)}"
        )
    return str(value)


def _file(entry: Any, index: int) -> AssetFile:
    path = f"files[{index}]"
    f = _Fields(entry, path)
    name = f.text("name", 255)
    assert name is not None
    if "/" in name or "\\" in name or name in (".", "..") or name != name.strip():
        raise InvalidInput(
            f"invalid manifest: field '{path}.name' must be a plain file name (no path, no surrounding spaces)"
        )
    if any(unicodedata.category(ch) in _INVISIBLE and ch not in _JOINERS for ch in name):
        raise InvalidInput(
            f"invalid manifest: field '{path}.name' holds an invisible or text-reordering character"
        )
    if len(name.encode()) > MAX_FILE_NAME_BYTES:  # NAME_MAX: `asset get` could not write it
        raise InvalidInput(
            f"invalid manifest: field '{path}.name' is longer than {MAX_FILE_NAME_BYTES} bytes of UTF-8"
        )
    cid = _cid(f.get("cid"), f"{path}.cid")
    sha256 = f.get("sha256")
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise InvalidInput(f"invalid manifest: field '{path}.sha256' must be 64 lower-case hex digits")
    size = f.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_FILE_SIZE:
        raise InvalidInput(f"invalid manifest: field '{path}.size' must be a byte count, got {_show(size)}")
    encrypted = f.get("encrypted", required=False)
    if encrypted is None:
        encrypted = False
    if not isinstance(encrypted, bool):
        raise InvalidInput(f"invalid manifest: field '{path}.encrypted' must be true or false")
    media_type = f.get("media_type", required=False)
    if media_type is not None and (not isinstance(media_type, str) or not _MEDIA_TYPE.match(media_type)):
        raise InvalidInput(
            f"invalid manifest: field '{path}.media_type' must be a media type such as text/csv"
        )
    f.finish()
    return AssetFile(name, cid, sha256, size, encrypted, media_type)
