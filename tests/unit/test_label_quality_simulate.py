"""The labeling demo's data, crowd and round driver (services/labeling/simulate.py)."""

from __future__ import annotations

import random
import struct
import zlib
from collections import Counter
from dataclasses import replace

import pytest

from proofwork.domain.labeling import gold_commitment, spec_hash
from proofwork.evaluation.label_quality import compute_round
from proofwork.services.labeling.simulate import (
    CampaignData,
    accuracy_against,
    demo_spec,
    digit_png,
    digits_data,
    make_crowd,
    make_gold,
    run_campaign,
)
from proofwork.storage.unixfs import cid_of_bytes

TOKEN = "0x" + "1" * 40


@pytest.fixture(scope="module")
def digits() -> CampaignData:
    return digits_data()


def test_digit_png_is_a_plain_greyscale_png() -> None:
    pixels = [(x * y) % 17 for y in range(8) for x in range(8)]
    png = digit_png(pixels)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks = []
    pos = 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, payload = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + payload)
        chunks.append((kind, payload))
        pos += 12 + length
    assert [k for k, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">IIBBBBB", chunks[0][1]) == (8, 8, 8, 0, 0, 0, 0)
    rows = zlib.decompress(chunks[1][1])
    assert len(rows) == 8 * 9 and all(rows[y * 9] == 0 for y in range(8))
    assert [rows[y * 9 + 1 + x] for y in range(8) for x in range(8)] == [255 - p * 255 // 16 for p in pixels]
    with pytest.raises(ValueError):
        digit_png([17] * 64)


def test_digits_items(digits: CampaignData) -> None:
    assert len(digits.items) == len(set(digits.items)) == 1_797
    assert digits.labels == tuple("0123456789")
    assert Counter(digits.truth.values()).keys() == set(digits.labels)
    for item in digits.items[:50]:
        assert cid_of_bytes(digits.content[item]) == item
    assert digits_data().items == digits.items  # the same CIDs every time


def test_gold_file(digits: CampaignData) -> None:
    gold = make_gold(digits, 1_000, b"secret", seed=1)
    assert len(gold.labels) == 179
    assert set(gold.commitments) == set(digits.items)
    for item in digits.items[:200]:
        label = gold.labels.get(item, "")
        assert gold.commitments[item] == gold_commitment(gold.salts[item], item, label)
    assert cid_of_bytes(gold.document) == gold.cid
    assert make_gold(digits, 1_000, b"secret", seed=2).labels != gold.labels
    spec = demo_spec(digits, gold, token=TOKEN)
    assert spec.items == digits.items and spec.gold.commitments_cid == gold.cid
    assert spec_hash(spec) == spec_hash(demo_spec(digits, gold, token=TOKEN))


def test_crowd_proportions() -> None:
    crowd = make_crowd(50, "0123456789", seed=3)
    assert Counter(c.kind for c in crowd) == {"careful": 30, "sloppy": 10, "random": 5, "one_class": 5}
    assert len({c.address for c in crowd}) == 50
    assert all(c.pace_ms < 700 for c in crowd if c.kind == "random")
    assert all(c.pace_ms >= 1_500 for c in crowd if c.kind != "random")
    assert make_crowd(50, "0123456789", seed=3) == crowd


def test_small_campaign_runs_to_the_end(digits: CampaignData) -> None:
    """120 digits, 12 labelers: every item aggregated, spammers excluded, pay within budget, and the
    same run twice for one seed."""
    small = CampaignData(digits.items[:120], digits.content, digits.truth, digits.labels)
    gold = make_gold(small, 1_000, b"secret", seed=5)
    spec = demo_spec(small, gold, token=TOKEN, levers={"batch_size": 10})
    crowd = make_crowd(12, small.labels, seed=5)
    crowd = tuple(replace(c, kind="careful", p_correct=0.9) if c.kind == "sloppy" else c for c in crowd)
    run = run_campaign(spec, small, gold, crowd, seed=5, reveal_at=3)
    final = run.final
    assert {r.item for r in final.items} == set(small.items) - set(gold.labels)
    assert final.uncertain == ()
    assert accuracy_against(small.truth, final.items) >= 0.9
    random_ones = {c.address for c in crowd if c.kind == "random"}
    assert random_ones <= set(final.excluded)
    assert final.total <= spec.budget
    assert [r.total for r in run.rounds] == sorted(r.total for r in run.rounds)  # never decreasing
    assert {g.item for g in run.reveals} == {a.item for a in run.answers} & set(gold.labels)
    again = run_campaign(spec, small, gold, crowd, seed=5, reveal_at=3)
    assert again.answers == run.answers and again.final == final
    # the committee's recomputation from the published answers, in any order, gives the same round
    shuffled, reveals = run.answers[:], run.reveals[:]
    random.Random(1).shuffle(shuffled)
    random.Random(2).shuffle(reveals)
    floor = run.rounds[-2].owed
    assert compute_round(spec, shuffled, reveals, dict(gold.commitments), floor=floor) == final
