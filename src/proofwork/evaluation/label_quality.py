"""A labeling round's quality control and pay, recomputed by anyone from the published answers, the
revealed gold and the campaign spec (`domain.labeling`).

`compute_round(spec, answers, gold, commitments)` takes ALL the campaign's answers up to and
including the round and returns every labeler's CUMULATIVE pay, so a missed round is harmless. The
steps, in this order:

1. **Checks.** Every answer names an item of the spec, a label of the label set and a lower-case
   address; a labeler answers an item once; the answers of one batch carry one `ms`; nobody passes
   `per_labeler_cap`. Every gold reveal matches its commitment (`gold_commitment(salt, item, label)`)
   and names a label of the set; an item is revealed once. Anything else: InvalidInput, nothing paid.
2. **Exclusion** (the spec's `Exclusion`, decided on all answers so far): a labeler with at least
   `min_gold_answers` gold answers of whom fewer than `min_gold_accuracy_bps` are right, or whose
   median over its batches of the milliseconds per label is below `min_ms_per_label`. Neither rule
   depends on the aggregate, so exclusion comes first and the excluded labelers' answers never enter it.
3. **Aggregation** with crowd-kit over the answers of the labelers not excluded: Dawid-Skene (the gold
   items' revealed labels given as `true_labels`, so gold anchors the labelers' confusion matrices)
   and majority vote, both always computed (`RoundResult.by_aggregator`); the spec's `aggregator`
   decides `items`. Posterior probabilities are rounded to basis points (round half to even) BEFORE
   the label is chosen: the label is the one with the most basis points, ties to the first in the
   spec's label set, so float noise below 0.5 bps never changes an outcome. Gold items are left out
   of `items` (their label is known).
4. **Accuracy** (`accuracy_bps`, for every labeler, excluded ones included): a pooled estimate
   judging each answer against the best truth known,

       accuracy_bps = (gold answers right + other answers equal to the aggregate label) * 10_000
                      // (gold answers + other answers compared)

   where an answer is compared only when its item's aggregate holds at least one OTHER labeler's
   answer (an item labeled by this labeler alone says nothing). Nothing to compare: 0 (no bonus
   without evidence). Gold weighs as much per answer as agreement; with 10 % gold and a good
   aggregate both estimate the same accuracy, and agreement adds the evidence gold lacks early on.
5. **Pay** (`domain.labeling.label_pay`): `accepted` is the labeler's answers (gold included) when
   not excluded, else 0 and no pay. Owed amounts are cumulative. Two rules keep them safe for the
   payout contract, which requires a round's total to be at least the claimable root's:
   - **floor**: `compute_round(..., floor=previous amounts)` (the last root's leaves, public) never
     owes anyone less than before: owed = max(floor, formula). A labeler excluded later keeps what
     earlier roots granted and earns nothing more. Without `floor` the function is a pure function of
     the answers, gold and spec (floor empty).
   - **budget cap**: when the amounts pass `spec.budget`, every labeler keeps its floor and the
     increments above the floors are scaled down by the same ratio, rounded down:
     owed = floor + (want - floor) * (budget - sum(floor)) // sum(want - floor). So total <= budget.
6. **Uncertain items** (`uncertain`, for extra labels): items not revealed as gold, answered at least
   once, whose chosen aggregate confidence is below `extra_below_bps` (0 when no answer is left after
   exclusion) and whose accepted labels are fewer than `max_labels_per_item`; the least confident
   first, then by item.

Deterministic: inputs are sorted canonically (answers by item then labeler) before anything is
computed, every output is an integer, mappings are built in sorted key order.
crowd-kit (and pandas) take about 2 s to import: imported inside `_aggregate`, never at module top.
"""

from __future__ import annotations

import re
import statistics
import warnings
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from proofwork.domain.errors import InvalidInput
from proofwork.domain.labeling import BPS, CampaignSpec, gold_commitment, label_pay

_LABELER = re.compile(r"^0x[0-9a-f]{40}$")


@dataclass(frozen=True)
class Answer:
    """One signed answer, as the service stores it."""

    labeler: str  # lower-case 0x address
    item: str  # item CID
    label: str  # one of spec.labels
    batch: str  # batch id (hex)
    ms: int  # milliseconds the labeler spent on the batch divided by its answers


@dataclass(frozen=True)
class GoldReveal:
    """A gold item's answer, revealed after the round it was answered in."""

    item: str
    salt: bytes
    label: str  # checked with domain.labeling.gold_commitment


@dataclass(frozen=True)
class ItemResult:
    item: str
    label: str
    confidence_bps: int  # the aggregator's posterior (or vote share) of `label`
    n_labels: int  # answers in the aggregate (excluded labelers' answers left out)


@dataclass(frozen=True)
class RoundResult:
    items: tuple[ItemResult, ...]  # aggregate of every answered non-gold item, sorted by item
    accuracy_bps: Mapping[str, int]  # per labeler
    accepted: Mapping[str, int]  # accepted labels per labeler (0 when excluded)
    excluded: Mapping[str, str]  # labeler -> reason (one line)
    owed: Mapping[str, int]  # CUMULATIVE amount per labeler (token units), over all rounds so far
    total: int  # sum(owed.values()) <= spec.budget
    uncertain: tuple[str, ...]  # items for an extra label: confidence < extra_below_bps, below the cap
    # Both aggregates, by aggregator name ("dawid_skene", "majority_vote"), for reports.
    by_aggregator: Mapping[str, tuple[ItemResult, ...]] = field(default_factory=dict)


def _short(text: str) -> str:
    return text if len(text) <= 20 else text[:17] + "..."


def _check_answers(spec: CampaignSpec, answers: Sequence[Answer]) -> list[Answer]:
    items = set(spec.items)
    labels = set(spec.labels)
    seen: set[tuple[str, str]] = set()
    batch_ms: dict[tuple[str, str], int] = {}
    per_labeler: Counter[str] = Counter()
    for a in answers:
        if not isinstance(a.labeler, str) or not _LABELER.match(a.labeler):
            raise InvalidInput(f"answer from {_short(str(a.labeler))!r}: not a lower-case 0x address")
        if a.item not in items:
            raise InvalidInput(f"answer for item {_short(a.item)} which is not in the campaign")
        if a.label not in labels:
            raise InvalidInput(
                f"answer {_short(a.label)!r} for item {_short(a.item)} is not in the label set"
            )
        if isinstance(a.ms, bool) or not isinstance(a.ms, int) or a.ms < 0:
            raise InvalidInput(f"answer for item {_short(a.item)}: ms must be a non-negative integer")
        if (a.labeler, a.item) in seen:
            raise InvalidInput(f"duplicate answer: {a.labeler} answered item {_short(a.item)} twice")
        seen.add((a.labeler, a.item))
        if batch_ms.setdefault((a.labeler, a.batch), a.ms) != a.ms:
            raise InvalidInput(f"batch {_short(a.batch)} of {a.labeler} carries two different ms per label")
        per_labeler[a.labeler] += 1
    for labeler, n in sorted(per_labeler.items()):
        if n > spec.per_labeler_cap:
            raise InvalidInput(
                f"{labeler} gave {n} answers, above the per-labeler cap of {spec.per_labeler_cap}"
            )
    return sorted(answers, key=lambda a: (a.item, a.labeler))


def _check_gold(
    spec: CampaignSpec, gold: Sequence[GoldReveal], commitments: Mapping[str, str]
) -> dict[str, str]:
    items = set(spec.items)
    revealed: dict[str, str] = {}
    for g in gold:
        if g.item not in items:
            raise InvalidInput(f"gold reveal for item {_short(g.item)} which is not in the campaign")
        if g.label not in spec.labels:
            raise InvalidInput(
                f"gold reveal for item {_short(g.item)}: {_short(g.label)!r} is not in the label set"
            )
        if g.item in revealed:
            raise InvalidInput(f"gold item {_short(g.item)} revealed twice")
        expected = commitments.get(g.item)
        if expected is None:
            raise InvalidInput(f"gold reveal for item {_short(g.item)} which has no commitment")
        if gold_commitment(g.salt, g.item, g.label) != expected.lower():
            raise InvalidInput(f"gold reveal for item {_short(g.item)} does not match its commitment")
        revealed[g.item] = g.label
    return revealed


def _check_floor(spec: CampaignSpec, floor: Mapping[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for labeler, amount in sorted(floor.items()):
        if not _LABELER.match(labeler):
            raise InvalidInput(f"floor for {_short(labeler)!r}: not a lower-case 0x address")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise InvalidInput(f"floor for {labeler}: not a non-negative integer")
        out[labeler] = amount
    if sum(out.values()) > spec.budget:
        raise InvalidInput(f"the previous amounts total {sum(out.values())}, above the budget {spec.budget}")
    return out


def _exclusions(spec: CampaignSpec, answers: list[Answer], gold: dict[str, str]) -> dict[str, str]:
    rule = spec.exclusion
    batches: dict[str, dict[str, int]] = defaultdict(dict)
    gold_answers: Counter[str] = Counter()
    gold_right: Counter[str] = Counter()
    for a in answers:
        batches[a.labeler][a.batch] = a.ms
        if a.item in gold:
            gold_answers[a.labeler] += 1
            gold_right[a.labeler] += a.label == gold[a.item]
    excluded: dict[str, str] = {}
    for labeler in sorted(batches):
        n, right = gold_answers[labeler], gold_right[labeler]
        if n >= rule.min_gold_answers and right * BPS < rule.min_gold_accuracy_bps * n:
            excluded[labeler] = (
                f"{right} of {n} gold answers right ({right * BPS // n} bps), "
                f"below the campaign's {rule.min_gold_accuracy_bps} bps"
            )
            continue
        median = statistics.median(sorted(batches[labeler].values()))
        if median < rule.min_ms_per_label:
            excluded[labeler] = (
                f"median {median:g} ms per label, faster than the campaign's {rule.min_ms_per_label} ms"
            )
    return excluded


def _aggregate(
    answers: list[Answer], gold: dict[str, str], labels: tuple[str, ...]
) -> dict[str, dict[str, tuple[str, int]]]:
    """Dawid-Skene and majority vote over `answers` (sorted): aggregator -> item -> (label, bps)."""
    if not answers:
        return {"dawid_skene": {}, "majority_vote": {}}
    import numpy as np
    import pandas as pd
    from crowdkit.aggregation import DawidSkene, MajorityVote

    index = {label: i for i, label in enumerate(labels)}
    data = pd.DataFrame(
        {
            "task": [a.item for a in answers],
            "worker": [a.labeler for a in answers],
            "label": np.array([index[a.label] for a in answers], dtype=np.int64),
        }
    )
    tasks = sorted(set(data["task"]))
    true = {item: index[label] for item, label in gold.items() if item in set(tasks)}
    true_labels = pd.Series(true, dtype=np.int64) if true else None
    with warnings.catch_warnings():  # crowd-kit 1.4.2 uses pandas keywords pandas 3 deprecates
        warnings.filterwarnings("ignore", module="crowdkit")
        probas = {
            "dawid_skene": DawidSkene(n_iter=100).fit_predict_proba(data, true_labels=true_labels),
            "majority_vote": MajorityVote().fit_predict_proba(data),
        }
    out: dict[str, dict[str, tuple[str, int]]] = {}
    for name, frame in probas.items():
        table = frame.reindex(index=tasks, columns=range(len(labels)), fill_value=0.0).fillna(0.0)
        bps = np.rint(table.to_numpy(dtype=np.float64) * BPS).astype(np.int64)
        best = bps.argmax(axis=1)  # the first of equal maxima: the spec's label order
        out[name] = {
            task: (labels[int(best[row])], int(bps[row, best[row]])) for row, task in enumerate(tasks)
        }
    return out


def _accuracy(
    answers: list[Answer], gold: dict[str, str], chosen: Mapping[str, ItemResult], kept: set[str]
) -> dict[str, int]:
    right: Counter[str] = Counter()
    compared: Counter[str] = Counter()
    labelers: set[str] = set()
    for a in answers:
        labelers.add(a.labeler)
        if a.item in gold:
            compared[a.labeler] += 1
            right[a.labeler] += a.label == gold[a.item]
            continue
        result = chosen.get(a.item)
        if result is None:
            continue
        others = result.n_labels - (1 if a.labeler in kept else 0)
        if others >= 1:
            compared[a.labeler] += 1
            right[a.labeler] += a.label == result.label
    return {
        labeler: right[labeler] * BPS // compared[labeler] if compared[labeler] else 0
        for labeler in sorted(labelers)
    }


def _cap(budget: int, want: dict[str, int], floor: dict[str, int]) -> dict[str, int]:
    if sum(want.values()) <= budget:
        return want
    room = budget - sum(floor.values())
    increments = {labeler: amount - floor.get(labeler, 0) for labeler, amount in want.items()}
    spread = sum(increments.values())
    return {labeler: floor.get(labeler, 0) + increments[labeler] * room // spread for labeler in want}


def compute_round(
    spec: CampaignSpec,
    answers: Sequence[Answer],
    gold: Sequence[GoldReveal],
    commitments: Mapping[str, str],
    *,
    floor: Mapping[str, int] | None = None,
) -> RoundResult:
    """A round's aggregate, accuracies, exclusions, cumulative pay and uncertain items (module
    docstring). `answers`: every answer of the campaign so far; `gold`: every gold reveal so far;
    `commitments`: item -> gold commitment (the spec's commitments file); `floor`: the amounts of the
    last root (never owe less), empty for a pure recomputation."""
    ordered = _check_answers(spec, answers)
    revealed = _check_gold(spec, gold, commitments)
    floors = _check_floor(spec, floor or {})

    excluded = _exclusions(spec, ordered, revealed)
    kept_answers = [a for a in ordered if a.labeler not in excluded]
    counts = Counter(a.item for a in kept_answers)
    aggregates = _aggregate(kept_answers, revealed, spec.labels)
    by_aggregator = {
        name: tuple(
            ItemResult(item, label, bps, counts[item])
            for item, (label, bps) in sorted(results.items())
            if item not in revealed
        )
        for name, results in sorted(aggregates.items())
    }
    items = by_aggregator[spec.aggregator]
    chosen = {r.item: r for r in items}

    kept_labelers = {a.labeler for a in kept_answers}
    accuracy = _accuracy(ordered, revealed, chosen, kept_labelers)
    answered = Counter(a.labeler for a in ordered)
    accepted = {labeler: 0 if labeler in excluded else answered[labeler] for labeler in sorted(answered)}
    want = {labeler: floors.get(labeler, 0) for labeler in sorted(set(accepted) | set(floors))}
    for labeler, n in accepted.items():
        if labeler not in excluded:
            want[labeler] = max(want[labeler], label_pay(spec.pay, n, accuracy[labeler]))
    owed = _cap(spec.budget, want, floors)

    answered_items = {a.item for a in ordered} - set(revealed)
    pending: list[tuple[int, str]] = []
    for item in answered_items:
        result = chosen.get(item)
        confidence = result.confidence_bps if result else 0
        if confidence < spec.extra_below_bps and counts[item] < spec.max_labels_per_item:
            pending.append((confidence, item))
    return RoundResult(
        items=items,
        accuracy_bps=accuracy,
        accepted=accepted,
        excluded=excluded,
        owed=owed,
        total=sum(owed.values()),
        uncertain=tuple(item for _, item in sorted(pending)),
        by_aggregator=by_aggregator,
    )
