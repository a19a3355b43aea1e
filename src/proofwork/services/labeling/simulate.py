"""The labeling demo's campaign data and crowd, and a driver that works a campaign in rounds.

- **Items**: scikit-learn's bundled digits (1,797 8x8 images, 16 grey levels). Each item's content is
  the image as an 8x8 8-bit greyscale PNG (ink dark on white), written byte for byte here (stored
  deflate block, no compressor whose output could change between zlib versions), so an item's CID,
  `storage.unixfs.cid_of_bytes(png)` as the content store names files, is the same everywhere.
- **Gold**: a share of the items (the spec's `gold.share_bps`) chosen by the seed; the commitments file
  maps EVERY item to `gold_commitment(salt, item, label or "")` with a salt per item derived from a
  secret (HMAC-SHA256), as `domain.labeling.Gold` describes.
- **Crowd**: 60 % of the labelers answer right with probability 0.9, 20 % with 0.6, 10 % at random,
  10 % always the same class (a wrong answer is uniform over the other classes). Careful labelers
  take about 1.5-4 s an image; the random clickers about 0.25-0.6 s (below the demo's
  `min_ms_per_label`, so the speed rule catches them); the one-class labelers pace like people (only
  gold catches them).
- **Driver** (`run_campaign`): rounds served the way the labeling service serves them (items with
  the fewest labels first, in spec order; never an item twice to one labeler; at least one gold item
  in a batch while one is left; a revealed gold item never again; one more label for each item the
  last round found uncertain, up to the cap; nothing once the labels given times the most a label can
  cost would pass the budget, nor past a labeler's cap; excluded labelers served nothing). After each
  round the gold answered in it is revealed and `compute_round` decides exclusions, pay (the last
  round's amounts as floor) and the uncertain items. It stops when a round serves nothing.
  `reveal_at` (default 1, the service's rule) reveals a gold item only once it has that many answers
  (all answered gold is revealed when nothing more is served). At 1, breadth-first serving spends
  each gold item on ONE labeler, so with 10 % gold a labeler of a 50-strong crowd meets only about 3-4
  gold items in the whole campaign, too few for the gold rule to catch the one-class labelers (they
  are then paid the base price); at `labels_per_item` each gold item tests three labelers
  (bench/label_quality.py measures both).

Deterministic for a seed (random.Random; sklearn's digits ship with the package).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import struct
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from proofwork.domain.labeling import (
    BPS,
    CampaignSpec,
    gold_commitment,
    max_pay_per_label,
    parse_campaign_spec,
)
from proofwork.evaluation.label_quality import Answer, GoldReveal, ItemResult, RoundResult, compute_round
from proofwork.storage.unixfs import cid_of_bytes

DIGIT_LABELS = tuple(str(d) for d in range(10))
KINDS = (("careful", 0.9), ("sloppy", 0.6), ("random", None), ("one_class", None))
CROWD_SHARES = (6_000, 2_000, 1_000, 1_000)  # bps of the crowd per kind, in KINDS order

# The levers tuned by bench/label_quality.py (see its docstring for the figures).
DEMO_LEVERS: dict[str, object] = {
    "labels_per_item": 3,
    "max_labels_per_item": 6,
    "extra_below_bps": 9_900,
    "aggregator": "dawid_skene",
    "exclusion": {"min_gold_answers": 5, "min_gold_accuracy_bps": 4_000, "min_ms_per_label": 700},
    "pay": {"price_per_label": 2_000, "quality_bonus": 1_000, "accuracy_floor_bps": 5_000},
    "per_labeler_cap": 600,
    "batch_size": 20,
    "batch_ttl_s": 900,
}


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def digit_png(pixels: Sequence[int], width: int = 8) -> bytes:
    """A greyscale PNG of one digit: `pixels` row by row, 0 (blank) to 16 (ink), drawn dark on white.
    The zlib stream is one stored block (RFC 1950/1951), so the bytes depend on nothing but the pixels."""
    if len(pixels) % width or not all(0 <= p <= 16 for p in pixels):
        raise ValueError("pixels must be whole rows of values 0..16")
    height = len(pixels) // width
    rows = b"".join(
        b"\x00" + bytes(255 - pixels[y * width + x] * 255 // 16 for x in range(width)) for y in range(height)
    )
    stored = b"\x01" + struct.pack("<HH", len(rows), len(rows) ^ 0xFFFF) + rows
    stream = b"\x78\x01" + stored + struct.pack(">I", zlib.adler32(rows))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", stream)
        + _png_chunk(b"IEND", b"")
    )


@dataclass(frozen=True)
class CampaignData:
    items: tuple[str, ...]  # item CIDs, in the dataset's order
    content: Mapping[str, bytes]  # item CID -> the item's bytes (a PNG)
    truth: Mapping[str, str]  # item CID -> the true label
    labels: tuple[str, ...]


def digits_data() -> CampaignData:
    """scikit-learn's bundled digits as campaign items (1,797 PNGs named by CID) with their true digits."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    items: list[str] = []
    content: dict[str, bytes] = {}
    truth: dict[str, str] = {}
    for image, target in zip(digits.data, digits.target, strict=True):
        png = digit_png([int(v) for v in image])
        cid = cid_of_bytes(png)
        items.append(cid)
        content[cid] = png
        truth[cid] = str(int(target))
    return CampaignData(tuple(items), content, truth, DIGIT_LABELS)


@dataclass(frozen=True)
class GoldFile:
    """The gold items, their salts and the commitments file (`domain.labeling.Gold`)."""

    labels: Mapping[str, str]  # gold item -> its label
    salts: Mapping[str, bytes]  # every item -> its salt
    commitments: Mapping[str, str]  # every item -> gold_commitment(salt, item, label or "")
    document: bytes  # the commitments file: canonical JSON of `commitments`
    cid: str
    sha256: str

    def reveal(self, item: str) -> GoldReveal:
        return GoldReveal(item, self.salts[item], self.labels[item])


def make_gold(data: CampaignData, share_bps: int, secret: bytes, seed: int) -> GoldFile:
    """Chooses `share_bps` of the items as gold (by `seed`) and commits every item, salts derived from
    `secret` (keep it hidden: it reveals the gold)."""
    count = len(data.items) * share_bps // BPS
    chosen = random.Random(f"gold:{seed}").sample(sorted(data.items), count)
    labels = {item: data.truth[item] for item in sorted(chosen)}
    salts = {item: hmac.new(secret, item.encode(), hashlib.sha256).digest()[:16] for item in data.items}
    commitments = {item: gold_commitment(salts[item], item, labels.get(item, "")) for item in data.items}
    document = json.dumps(commitments, sort_keys=True, separators=(",", ":")).encode()
    return GoldFile(
        labels, salts, commitments, document, cid_of_bytes(document), hashlib.sha256(document).hexdigest()
    )


def demo_spec(
    data: CampaignData,
    gold: GoldFile,
    *,
    token: str,
    budget: int | None = None,
    share_bps: int = 1_000,
    levers: Mapping[str, object] | None = None,
) -> CampaignSpec:
    """The demo campaign's spec, checked by `parse_campaign_spec`. Without `budget`: enough for
    `max_labels_per_item` labels of every item at the most a label can cost."""
    doc: dict[str, object] = {**DEMO_LEVERS, **(levers or {})}
    pay = doc["pay"]
    assert isinstance(pay, dict)
    if budget is None:
        cap = doc["max_labels_per_item"]
        assert isinstance(cap, int)
        budget = len(data.items) * cap * (pay["price_per_label"] + pay["quality_bonus"])
    doc.update(
        {
            "version": 1,
            "name": "digits-demo",
            "token": token,
            "budget": budget,
            "items": list(data.items),
            "labels": list(data.labels),
            "gold": {"share_bps": share_bps, "commitments_cid": gold.cid, "commitments_sha256": gold.sha256},
            "eligibility": {"kind": "anyone"},
        }
    )
    return parse_campaign_spec(json.dumps(doc))


@dataclass(frozen=True)
class SimLabeler:
    address: str
    kind: str  # one of KINDS' names
    p_correct: float | None  # careful/sloppy: chance of a right answer
    fixed: str  # one_class: the class always given
    pace_ms: int  # typical milliseconds per label

    def answer(self, truth: str, labels: Sequence[str], rng: random.Random) -> str:
        if self.kind == "one_class":
            return self.fixed
        if self.kind == "random":
            return rng.choice(labels)
        assert self.p_correct is not None
        if rng.random() < self.p_correct:
            return truth
        return rng.choice([label for label in labels if label != truth])

    def batch_ms(self, rng: random.Random) -> int:
        """Milliseconds per label for one batch: the labeler's pace, +-20 %."""
        return int(self.pace_ms * rng.uniform(0.8, 1.2))


def make_crowd(
    size: int, labels: Sequence[str], seed: int, addresses: Sequence[str] | None = None
) -> tuple[SimLabeler, ...]:
    """`size` simulated labelers in the issue's proportions (counts rounded, the rest careful), in a
    seeded order. `addresses` (lower-case, e.g. of real keys for a demo that signs) or derived ones."""
    rng = random.Random(f"crowd:{seed}")
    if addresses is None:
        addresses = [
            "0x" + hashlib.sha256(f"labeler:{seed}:{i}".encode()).digest()[:20].hex() for i in range(size)
        ]
    if len(addresses) != size:
        raise ValueError("one address per labeler")
    counts = [size * share // BPS for share in CROWD_SHARES]
    counts[0] += size - sum(counts)
    kinds = [kind for (kind, _), n in zip(KINDS, counts, strict=True) for _ in range(n)]
    rng.shuffle(kinds)
    p = dict(KINDS)
    crowd = []
    for address, kind in zip(addresses, kinds, strict=True):
        pace = rng.randint(250, 600) if kind == "random" else rng.randint(1_500, 4_000)
        crowd.append(SimLabeler(address.lower(), kind, p[kind], rng.choice(list(labels)), pace))
    return tuple(crowd)


@dataclass
class CampaignRun:
    answers: list[Answer] = field(default_factory=list)
    reveals: list[GoldReveal] = field(default_factory=list)
    rounds: list[RoundResult] = field(default_factory=list)
    round_seconds: list[float] = field(default_factory=list)  # compute_round's time per round

    @property
    def final(self) -> RoundResult:
        return self.rounds[-1]


def _choose(
    spec: CampaignSpec,
    labeler: str,
    given: Counter[str],
    seen: set[tuple[str, str]],
    targets: Mapping[str, int],
    gold: Mapping[str, str],
    revealed: set[str],
    room: int,
) -> list[str]:
    """The service's choice of items for one batch (module docstring)."""
    ranked = []
    for position, item in enumerate(spec.items):
        if (labeler, item) in seen or item in revealed:
            continue
        target = targets.get(item, spec.labels_per_item)
        if given[item] >= target:
            continue
        ranked.append((given[item] >= spec.labels_per_item, given[item], position, item))
    ranked.sort()
    chosen = ranked[:room]
    if chosen and not any(c[3] in gold for c in chosen):
        spare = next((r for r in ranked[room:] if r[3] in gold), None)
        if spare is not None:
            chosen[-1] = spare
    return [c[3] for c in chosen]


def run_campaign(
    spec: CampaignSpec,
    data: CampaignData,
    gold: GoldFile,
    crowd: Sequence[SimLabeler],
    *,
    seed: int,
    batches_per_round: int = 1,
    max_rounds: int = 100,
    reveal_at: int = 1,
) -> CampaignRun:
    """Works the campaign with the simulated crowd, round by round (module docstring)."""
    import time

    rng = random.Random(f"run:{seed}")
    run = CampaignRun()
    given: Counter[str] = Counter()
    per_labeler: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    revealed: set[str] = set()
    targets: dict[str, int] = {}
    excluded: set[str] = set()
    floor: Mapping[str, int] = {}
    most_labels = spec.budget // max_pay_per_label(spec)
    for round_no in range(max_rounds):
        served = 0
        order = list(crowd)
        rng.shuffle(order)
        for turn in range(batches_per_round):
            for labeler in order:
                room = min(
                    spec.batch_size,
                    spec.per_labeler_cap - per_labeler[labeler.address],
                    most_labels - len(run.answers),
                )
                if labeler.address in excluded or room <= 0:
                    continue
                items = _choose(spec, labeler.address, given, seen, targets, gold.labels, revealed, room)
                if not items:
                    continue
                batch = f"{round_no:04x}{turn:02x}{labeler.address[2:10]}"
                ms = labeler.batch_ms(rng)
                for item in items:
                    label = labeler.answer(data.truth[item], data.labels, rng)
                    run.answers.append(Answer(labeler.address, item, label, batch, ms))
                    given[item] += 1
                    seen.add((labeler.address, item))
                per_labeler[labeler.address] += len(items)
                served += len(items)
        pending = {item for item in gold.labels if given[item] and item not in revealed}
        if served:  # when nothing more is served, every gold item answered is revealed
            pending = {item for item in pending if given[item] >= reveal_at}
        if not served and not pending:
            break
        for item in sorted(pending):
            run.reveals.append(gold.reveal(item))
            revealed.add(item)
        started = time.perf_counter()
        result = compute_round(spec, run.answers, run.reveals, gold.commitments, floor=floor)
        run.round_seconds.append(time.perf_counter() - started)
        run.rounds.append(result)
        floor = result.owed
        excluded = set(result.excluded)
        targets = {item: given[item] + 1 for item in result.uncertain}
    return run


def accuracy_against(truth: Mapping[str, str], results: Sequence[ItemResult]) -> float:
    """Share of aggregated items whose label is the true one."""
    right = sum(1 for r in results if truth[r.item] == r.label)
    return right / len(results) if results else 0.0
