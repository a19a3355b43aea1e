"""A labeling round's quality control and pay (evaluation/label_quality.py): checks, exclusion,
aggregation with crowd-kit, accuracy, the pay formula, the budget cap, uncertain items, determinism."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from proofwork.domain.errors import InvalidInput
from proofwork.domain.labeling import CampaignSpec, gold_commitment, label_pay, parse_campaign_spec
from proofwork.evaluation.label_quality import Answer, GoldReveal, compute_round
from proofwork.storage.unixfs import cid_of_bytes

ITEMS = [cid_of_bytes(f"item {i}".encode()) for i in range(12)]
LABELS = ["cat", "dog", "bird"]
GOOD = [f"0x{i:040x}" for i in range(1, 5)]
BAD = "0x" + "b" * 40
FAST = "0x" + "f" * 40


def make_spec(**changes: object) -> CampaignSpec:
    doc: dict[str, object] = {
        "version": 1,
        "name": "unit",
        "token": "0x" + "1" * 40,
        "budget": 10**9,
        "items": ITEMS,
        "labels": LABELS,
        "labels_per_item": 3,
        "max_labels_per_item": 5,
        "extra_below_bps": 9_000,
        "aggregator": "dawid_skene",
        "gold": {"share_bps": 2_500, "commitments_cid": ITEMS[0], "commitments_sha256": "0" * 64},
        "exclusion": {"min_gold_answers": 2, "min_gold_accuracy_bps": 6_000, "min_ms_per_label": 500},
        "pay": {"price_per_label": 1_000, "quality_bonus": 500, "accuracy_floor_bps": 5_000},
        "eligibility": {"kind": "anyone"},
        "per_labeler_cap": 100,
        "batch_size": 4,
        "batch_ttl_s": 600,
    }
    for key, value in changes.items():
        doc[key] = value
    return parse_campaign_spec(json.dumps(doc))


TRUTH = {item: LABELS[i % 3] for i, item in enumerate(ITEMS)}
GOLD_ITEMS = ITEMS[:3]
SALT = {item: bytes([i]) * 16 for i, item in enumerate(ITEMS)}
COMMITMENTS = {
    item: gold_commitment(SALT[item], item, TRUTH[item] if item in GOLD_ITEMS else "") for item in ITEMS
}
REVEALS = [GoldReveal(item, SALT[item], TRUTH[item]) for item in GOLD_ITEMS]


def wrong(label: str) -> str:
    return LABELS[(LABELS.index(label) + 1) % 3]


def crowd_answers() -> list[Answer]:
    """Four good labelers answering every item right except one disagreement each; a labeler always
    answering 'cat' at a normal pace (caught by gold); a fast labeler answering right (caught by time)."""
    answers = []
    for n, labeler in enumerate(GOOD):
        for i, item in enumerate(ITEMS):
            label = wrong(TRUTH[item]) if i == 3 + n * 2 else TRUTH[item]
            answers.append(Answer(labeler, item, label, f"b{n}{i // 4}", 2_000 + n))
    for i, item in enumerate(ITEMS):
        answers.append(Answer(BAD, item, "cat", f"bad{i // 4}", 1_500))
        answers.append(Answer(FAST, item, TRUTH[item], f"fast{i // 4}", 120))
    return answers


def run(spec: CampaignSpec | None = None, answers: list[Answer] | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
    return compute_round(
        spec or make_spec(),
        crowd_answers() if answers is None else answers,
        kwargs.pop("gold", REVEALS),  # type: ignore[arg-type]
        kwargs.pop("commitments", COMMITMENTS),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def test_exclusion_aggregate_and_pay() -> None:
    spec = make_spec()
    result = run(spec)
    assert set(result.excluded) == {BAD, FAST}
    assert "1 of 3 gold answers right" in result.excluded[BAD]
    assert "median 120 ms per label" in result.excluded[FAST]
    # the aggregate: every non-gold item, right, from the four good labelers only
    assert [r.item for r in result.items] == sorted(ITEMS[3:])
    assert all(r.label == TRUTH[r.item] and r.n_labels == 4 for r in result.items)
    assert set(result.by_aggregator) == {"dawid_skene", "majority_vote"}
    assert all(r.label == TRUTH[r.item] for r in result.by_aggregator["majority_vote"])
    # accuracy: 12 answers each, one wrong (against the aggregate or gold)
    for labeler in GOOD:
        assert result.accuracy_bps[labeler] == 11 * 10_000 // 12
        assert result.accepted[labeler] == 12
        assert result.owed[labeler] == label_pay(spec.pay, 12, 11 * 10_000 // 12)
    assert result.accepted[BAD] == result.owed[BAD] == 0
    assert result.accepted[FAST] == result.owed[FAST] == 0
    assert result.accuracy_bps[FAST] == 10_000  # reported, though excluded
    assert result.total == sum(result.owed.values())


def test_pay_formula_by_hand() -> None:
    spec = make_spec()
    # 12 labels at 9166 bps: 12 * 1000 + 12 * 500 * (9166 - 5000) // 5000
    assert label_pay(spec.pay, 12, 9_166) == 12_000 + 12 * 500 * 4_166 // 5_000
    assert label_pay(spec.pay, 12, 4_000) == 12_000  # no bonus at or below the floor


def test_excluded_answers_leave_the_aggregate() -> None:
    # Without the gold rule BAD's "cat" answers would turn items; with it, they are ignored.
    lenient = make_spec(
        exclusion={"min_gold_answers": 50, "min_gold_accuracy_bps": 6_000, "min_ms_per_label": 0}
    )
    result = run(lenient)
    assert result.excluded == {}
    assert all(r.n_labels == 6 for r in result.items)
    strict = run(make_spec())
    assert all(r.n_labels == 4 for r in strict.items)


def test_few_gold_answers_not_excluded() -> None:
    spec = make_spec(
        exclusion={"min_gold_answers": 4, "min_gold_accuracy_bps": 6_000, "min_ms_per_label": 500}
    )
    assert BAD not in run(spec).excluded  # only 3 gold answers: the accuracy rule does not apply yet


def test_exclusion_threshold_edges() -> None:
    # BAD has 1 of 3 right: 3333 bps. At 3333 exactly it stays; at 3334 it goes.
    stays = make_spec(
        exclusion={"min_gold_answers": 3, "min_gold_accuracy_bps": 3_333, "min_ms_per_label": 0}
    )
    goes = make_spec(exclusion={"min_gold_answers": 3, "min_gold_accuracy_bps": 3_334, "min_ms_per_label": 0})
    assert BAD not in run(stays).excluded
    assert BAD in run(goes).excluded
    # time: the median over batches; 120 ms stays at a 120 ms minimum
    assert (
        FAST
        not in run(
            make_spec(exclusion={"min_gold_answers": 0, "min_gold_accuracy_bps": 0, "min_ms_per_label": 120})
        ).excluded
    )


def test_median_over_batches() -> None:
    # two fast batches of one answer, one slow batch: median over batches is fast
    answers = [Answer(GOOD[0], ITEMS[i], TRUTH[ITEMS[i]], f"x{i}", 100) for i in range(2)]
    answers += [Answer(GOOD[0], ITEMS[i], TRUTH[ITEMS[i]], "slow", 10_000) for i in range(2, 12)]
    result = run(answers=answers)
    assert "median 100 ms" in result.excluded[GOOD[0]]


def test_determinism_under_permutation() -> None:
    answers = crowd_answers()
    first = run(answers=answers)
    rng = random.Random(7)
    for _ in range(3):
        shuffled = answers[:]
        rng.shuffle(shuffled)
        reveals = REVEALS[:]
        rng.shuffle(reveals)
        again = run(answers=shuffled, gold=reveals)
        assert again == first
        assert list(again.owed) == list(first.owed)


def test_budget_cap() -> None:
    spec = make_spec()
    full = run(spec)
    budget = full.total // 3
    capped = run(make_spec(budget=budget))
    assert capped.total <= budget
    for labeler in GOOD:  # scaled down by the same ratio, rounded down
        assert capped.owed[labeler] == full.owed[labeler] * budget // full.total
    assert budget - capped.total < len(GOOD)


def test_floor_never_owes_less() -> None:
    # BAD was paid before it was caught: its earlier amount stays, nothing more
    result = run(floor={BAD: 4_000, GOOD[0]: 10**6})
    assert result.owed[BAD] == 4_000
    assert result.owed[GOOD[0]] == 10**6  # above the formula: kept
    tight = run(make_spec(budget=10**6 + 4_000 + 30), floor={BAD: 4_000, GOOD[0]: 10**6})
    assert tight.owed[BAD] == 4_000 and tight.owed[GOOD[0]] == 10**6
    assert tight.total <= 10**6 + 4_000 + 30
    with pytest.raises(InvalidInput, match="above the budget"):
        run(make_spec(budget=100), floor={BAD: 4_000})


def test_uncertain_items() -> None:
    # one item with a 1-1 split between two good labelers: uncertain; a 3-label item is capped
    answers = [Answer(GOOD[0], ITEMS[5], "cat", "a", 2_000), Answer(GOOD[1], ITEMS[5], "dog", "b", 2_000)]
    answers += [Answer(GOOD[i], ITEMS[6], LABELS[i], f"c{i}", 2_000) for i in range(3)]
    answers += [Answer(GOOD[i], ITEMS[7], "bird", f"d{i}", 2_000) for i in range(3)]
    result = run(make_spec(max_labels_per_item=3), answers=answers, gold=[])
    assert result.uncertain == (ITEMS[5],)
    result = run(make_spec(max_labels_per_item=5), answers=answers, gold=[])
    assert set(result.uncertain) == {ITEMS[5], ITEMS[6]}
    assert ITEMS[7] not in result.uncertain
    assert run(make_spec(extra_below_bps=0), answers=answers, gold=[]).uncertain == ()


def test_majority_vote_aggregator_decides() -> None:
    result = run(make_spec(aggregator="majority_vote"))
    assert result.items == result.by_aggregator["majority_vote"]
    assert all(r.confidence_bps == 7_500 or r.confidence_bps == 10_000 for r in result.items)


@pytest.mark.parametrize(
    ("reveal", "message"),
    [
        (GoldReveal(ITEMS[0], SALT[ITEMS[0]], "dog"), "does not match its commitment"),
        (GoldReveal(ITEMS[0], b"other salt", "cat"), "does not match its commitment"),
        (GoldReveal(ITEMS[5], SALT[ITEMS[5]], TRUTH[ITEMS[5]]), "does not match its commitment"),
        (GoldReveal(ITEMS[0], SALT[ITEMS[0]], "horse"), "not in the label set"),
        (GoldReveal(cid_of_bytes(b"stranger"), b"s", "cat"), "not in the campaign"),
    ],
)
def test_bad_reveals(reveal: GoldReveal, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as err:
        run(gold=[*REVEALS[1:], reveal])
    assert "\n" not in str(err.value)


def test_reveal_twice_and_missing_commitment() -> None:
    with pytest.raises(InvalidInput, match="revealed twice"):
        run(gold=[*REVEALS, REVEALS[0]])
    with pytest.raises(InvalidInput, match="no commitment"):
        run(commitments={k: v for k, v in COMMITMENTS.items() if k != ITEMS[0]})


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer(GOOD[0], ITEMS[4], "cat", "zz", 2_000), "duplicate answer"),
        (Answer(GOOD[0], cid_of_bytes(b"not here"), "cat", "zz", 2_000), "not in the campaign"),
        (Answer(GOOD[0], ITEMS[4], "horse", "zz", 2_000), "not in the label set"),
        (Answer("0x" + "A" * 40, ITEMS[4], "cat", "zz", 2_000), "lower-case 0x address"),
        (Answer(GOOD[0], ITEMS[4], "cat", "zz", -1), "non-negative"),
    ],
)
def test_bad_answers(answer: Answer, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as err:
        run(answers=[*crowd_answers(), answer])
    assert "\n" not in str(err.value)


def test_batch_with_two_paces_and_cap() -> None:
    answers = crowd_answers()
    answers[0] = replace(answers[0], ms=answers[0].ms + 1)
    with pytest.raises(InvalidInput, match="two different ms"):
        run(answers=answers)
    with pytest.raises(InvalidInput, match="above the per-labeler cap of 11"):
        run(make_spec(per_labeler_cap=11))


def test_no_answers() -> None:
    result = run(answers=[], gold=[])
    assert result.items == () and result.total == 0 and result.uncertain == ()
