"""A labeling campaign's spec: the items, the label set, the quality rule and the pay rule, fixed
before anyone works and hashed into the campaign on chain (`LabelPayouts.create(spec_hash=...)`).

Everything that decides who is paid what is here, written down before the first answer: how many
labels an item gets and when it gets more, how gold items are committed, who is excluded (too few
gold answers right, or answering faster than a person can), and the pay formula. The committee
recomputes every round's pay from the published answers, gold and this spec; so can anyone.

Money is integers in token units; shares and confidences are integers in basis points.
Pure: nothing here reads files or the network.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from proofwork.domain.errors import InvalidInput
from proofwork.domain.evalspec import SpecFields, cid_field, load_document

BPS = 10_000
MAX_ITEMS = 100_000
MAX_LABELS = 256
AGGREGATORS = ("dawid_skene", "majority_vote")
ELIGIBILITY_KINDS = ("anyone", "badge", "credential", "reputation")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_LABEL = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX32 = re.compile(r"^[0-9a-f]{64}$")
_MAX_AMOUNT = 2**128


@dataclass(frozen=True)
class Gold:
    """Gold items with known answers, hidden like an evaluation's labels.

    `commitments_cid` names a JSON file mapping EVERY item CID to sha256(salt || item || 0x00 || label)
    (hex), with a random salt per item and the label empty for an item that is not gold: the file
    says nothing about which items are gold. With each round the service reveals (item, salt, label)
    for the gold items `labels_per_item` labelers have answered; anyone checks each against the file,
    whose sha256 is `commitments_sha256`. A revealed gold item is never served again (open batches
    holding it end)."""

    share_bps: int  # the share of items that are gold (e.g. 1000: 10 %)
    commitments_cid: str
    commitments_sha256: str  # hex


@dataclass(frozen=True)
class Exclusion:
    """Who is excluded from pay (and whose answers leave the aggregate), decided per round on all the
    answers so far: a labeler with at least `min_gold_answers` gold answers of which fewer than
    `min_gold_accuracy_bps` are right, or whose median over its batches of the milliseconds per label
    is below `min_ms_per_label`. Neither rule looks at the aggregate, so the excluded labelers'
    answers never enter it (`evaluation.label_quality`)."""

    min_gold_answers: int  # gold answers a labeler needs before the accuracy rule applies
    min_gold_accuracy_bps: int  # below this share of gold answered right: excluded
    min_ms_per_label: int  # a batch answered faster than this per label on median: excluded


@dataclass(frozen=True)
class Pay:
    """pay(labeler) = n * price_per_label + n * quality_bonus * max(0, q - floor) // (BPS - floor)

    for a labeler not excluded, where n is the labeler's accepted labels (answers to items of the
    campaign, gold included) and q its accuracy in basis points estimated from the gold items and
    the aggregate; an excluded labeler is paid nothing. Integer arithmetic, rounded down.

    q pools both: (gold answers right + other answers equal to the aggregate's label) * BPS //
    (gold answers + other answers compared), an answer compared only when its item's aggregate
    holds another labeler's answer; 0 with nothing to compare. Amounts are cumulative and never
    below what the last claimable root granted; above the budget, the increments over those floors
    are scaled down by one ratio, rounded down (`evaluation.label_quality` states the rules)."""

    price_per_label: int  # token units per accepted label
    quality_bonus: int  # token units per accepted label at accuracy 100 %
    accuracy_floor_bps: int  # no bonus at or below this accuracy


@dataclass(frozen=True)
class Eligibility:
    """Who may work: anyone, holders of a skill badge, of a credential from an issuer, or a
    reputation score at least `min_reputation`."""

    kind: str  # one of ELIGIBILITY_KINDS
    skill: str | None = None  # badge: the skill
    issuer: str | None = None  # credential: the issuer's DID
    min_reputation: int | None = None  # reputation: the least EigenTrust score, in millionths (ppm)


@dataclass(frozen=True)
class CampaignSpec:
    version: int
    name: str
    token: str  # the ERC-20 the budget is escrowed in (checksum or lower-case hex)
    budget: int  # token units
    items: tuple[str, ...]  # item CIDs (images or text), in order; an item is named by its CID
    labels: tuple[str, ...]  # the label set
    labels_per_item: int  # labels every item gets
    max_labels_per_item: int  # the cap when extra labels are asked for
    extra_below_bps: int  # an item whose aggregate confidence is below this gets one more label
    aggregator: str  # one of AGGREGATORS
    gold: Gold
    exclusion: Exclusion
    pay: Pay
    eligibility: Eligibility
    per_labeler_cap: int  # labels one labeler may give in the campaign
    batch_size: int  # items per batch
    batch_ttl_s: int  # an unanswered batch expires and its items are served again


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _amount(fields: SpecFields, key: str, low: int = 0) -> int:
    return fields.integer(key, low, _MAX_AMOUNT - 1)


def _labels(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not 2 <= len(value) <= MAX_LABELS:
        raise InvalidInput(f"invalid spec: field 'labels' must be a list of 2 to {MAX_LABELS} labels")
    if not all(isinstance(v, str) and _LABEL.match(v) for v in value):
        raise InvalidInput("invalid spec: field 'labels' must hold strings of 1 to 64 printable characters")
    if len(set(value)) != len(value):
        raise InvalidInput("invalid spec: field 'labels' lists a label twice")
    return tuple(value)


def _items(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_ITEMS:
        raise InvalidInput(f"invalid spec: field 'items' must be a list of 1 to {MAX_ITEMS} item CIDs")
    probe = SpecFields({str(i): v for i, v in enumerate(value)}, "items")
    items = tuple(cid_field(probe, str(i)) for i in range(len(value)))
    if len(set(items)) != len(items):
        raise InvalidInput("invalid spec: field 'items' lists an item twice")
    return items


def _eligibility(fields: SpecFields) -> Eligibility:
    kind = fields.text("kind", choices=ELIGIBILITY_KINDS)
    if kind == "badge":
        return Eligibility(kind, skill=fields.text("skill"))
    if kind == "credential":
        issuer = fields.text("issuer")
        assert issuer is not None
        if not issuer.startswith("did:") or len(issuer) > 256:
            raise InvalidInput(f"invalid spec: field 'eligibility.issuer' must be a DID, got {_show(issuer)}")
        return Eligibility(kind, issuer=issuer)
    if kind == "reputation":
        return Eligibility(kind, min_reputation=fields.integer("min_reputation", 1, 10**9))
    return Eligibility("anyone")


def parse_campaign_spec(text: str | bytes) -> CampaignSpec:
    """Parses and validates a campaign spec (YAML or JSON); every problem is an InvalidInput naming
    the field."""
    top = SpecFields(load_document(text), "")
    version = top.get("version")
    if isinstance(version, bool) or version != 1:
        raise InvalidInput(f"invalid spec: field 'version' must be 1, got {_show(version)}")
    name = top.text("name")
    assert name is not None
    if not _NAME.match(name):
        raise InvalidInput(
            "invalid spec: field 'name' must be 1-100 letters, digits, '.', '_' or '-' starting with a letter or digit"
        )
    token = top.text("token")
    assert token is not None
    if not _ADDRESS.match(token):
        raise InvalidInput(f"invalid spec: field 'token' must be an address, got {_show(token)}")
    budget = _amount(top, "budget", low=1)
    items = _items(top.get("items"))
    labels = _labels(top.get("labels"))
    per_item = top.integer("labels_per_item", 1, 15)
    max_per_item = top.integer("max_labels_per_item", per_item, 31, default=per_item)
    extra_below = top.integer("extra_below_bps", 0, BPS, default=0)
    aggregator = top.text("aggregator", choices=AGGREGATORS)
    assert aggregator is not None

    g = SpecFields(top.get("gold"), "gold")
    share = g.integer("share_bps", 0, 5_000)
    commitments = cid_field(g, "commitments_cid")
    digest = g.text("commitments_sha256")
    assert digest is not None
    if not _HEX32.match(digest):
        raise InvalidInput("invalid spec: field 'gold.commitments_sha256' must be 64 lower-case hex digits")
    g.finish()

    e = SpecFields(top.get("exclusion"), "exclusion")
    exclusion = Exclusion(
        e.integer("min_gold_answers", 0, 10_000),
        e.integer("min_gold_accuracy_bps", 0, BPS),
        e.integer("min_ms_per_label", 0, 600_000),
    )
    e.finish()

    p = SpecFields(top.get("pay"), "pay")
    pay = Pay(
        _amount(p, "price_per_label"),
        _amount(p, "quality_bonus"),
        p.integer("accuracy_floor_bps", 0, BPS - 1),
    )
    p.finish()
    if pay.price_per_label + pay.quality_bonus == 0:
        raise InvalidInput(
            "invalid spec: a label must be paid something (pay.price_per_label or pay.quality_bonus)"
        )

    el = SpecFields(top.get("eligibility"), "eligibility")
    eligibility = _eligibility(el)
    el.finish()

    cap = top.integer("per_labeler_cap", 1, 10 * MAX_ITEMS)
    batch_size = top.integer("batch_size", 1, 500)
    ttl = top.integer("batch_ttl_s", 30, 86_400)
    top.finish()
    return CampaignSpec(
        1,
        name,
        token,
        budget,
        items,
        labels,
        per_item,
        max_per_item,
        extra_below,
        aggregator,
        Gold(share, commitments, digest),
        exclusion,
        pay,
        eligibility,
        cap,
        batch_size,
        ttl,
    )


def spec_document(spec: CampaignSpec) -> dict[str, Any]:
    """The spec as a JSON-ready mapping (tuples as lists; absent eligibility fields left out)."""
    doc = asdict(spec)
    doc["items"] = list(spec.items)
    doc["labels"] = list(spec.labels)
    doc["eligibility"] = {k: v for k, v in doc["eligibility"].items() if v is not None}
    return doc


def canonical_spec(spec: CampaignSpec) -> bytes:
    """The spec's canonical JSON (sorted keys, no spaces, UTF-8): what is stored and hashed."""
    return json.dumps(spec_document(spec), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def spec_hash(spec: CampaignSpec) -> bytes:
    """sha256 of the canonical spec: the campaign's `spec_hash` on chain and in every signed root."""
    return hashlib.sha256(canonical_spec(spec)).digest()


def gold_commitment(salt: bytes, item: str, label: str) -> str:
    """sha256(salt || item || 0x00 || label) in hex, `label` empty for an item that is not gold."""
    return hashlib.sha256(salt + item.encode() + b"\x00" + label.encode()).hexdigest()


def max_pay_per_label(spec: CampaignSpec) -> int:
    """The most one label can cost (price plus full bonus): the service stops serving work when the
    labels given times this would pass the budget."""
    return spec.pay.price_per_label + spec.pay.quality_bonus


def label_pay(pay: Pay, accepted: int, accuracy_bps: int) -> int:
    """The pay formula of `Pay`, for a labeler not excluded."""
    if accepted < 0 or not 0 <= accuracy_bps <= BPS:
        raise InvalidInput(f"invalid pay inputs: {accepted} labels at accuracy {accuracy_bps} bps")
    bonus = accepted * pay.quality_bonus * max(0, accuracy_bps - pay.accuracy_floor_bps)
    return accepted * pay.price_per_label + bonus // (BPS - pay.accuracy_floor_bps)
