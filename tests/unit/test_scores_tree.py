"""The scores tree the committee signs (`chain.scores_tree`, over murky-tree) against the independent
reference the contract tests use (`tests/contracts/competition_fixtures.py`), and the winners rule
against its reference. The contract's own `score_leaf`/`verify_score` are checked against it on
both chains in tests/integration/test_competitions_sdk.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proofwork.chain.scores_tree import EMPTY_ROOT, ScoresTree, score_leaf, verify_score, winners_hash
from proofwork.domain import competition as rules
from proofwork.domain.errors import InvalidInput, NotFound

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contracts"))
import competition_fixtures as reference

INT256 = st.integers(-(2**255), 2**255 - 1)
SCORES = st.dictionaries(st.integers(0, 2**256 - 1), INT256, max_size=40).map(lambda d: list(d.items()))


@settings(max_examples=60, deadline=None)
@given(SCORES)
def test_root_and_proofs_are_openzeppelins(scores: list[tuple[int, int]]) -> None:
    tree = ScoresTree(scores)
    assert tree.root == reference.scores_root(scores)
    for entry, score in scores:
        proof = tree.proof(entry)
        assert proof == reference.score_proof(scores, entry, score)
        assert score_leaf(entry, score) == reference.score_leaf(entry, score)
        assert verify_score(tree.root, entry, score, proof)
        other = score - 1 if score > -(2**255) else score + 1
        assert not verify_score(tree.root, entry, other, proof)
        assert not verify_score(tree.root, entry + 1 if entry < 2**256 - 1 else entry - 1, score, proof)


def test_the_tree_is_the_same_whatever_the_order_and_refuses_what_is_not_a_score() -> None:
    scores = [(3, 10), (0, -5), (7, 2**255 - 1), (1, -(2**255))]
    assert ScoresTree(scores).root == ScoresTree(reversed(scores)).root
    assert ScoresTree([]).root == EMPTY_ROOT == reference.scores_root([])
    assert ScoresTree([(4, 9)]).proof(4) == []  # a single leaf is the root
    assert not verify_score(EMPTY_ROOT, 0, 0, [])  # like the contract: nothing proves against zero
    with pytest.raises(NotFound):
        ScoresTree(scores).proof(2)
    with pytest.raises(NotFound):
        ScoresTree([]).proof(0)
    for bad in ([(1, 1), (1, 2)], [(-1, 0)], [(2**256, 0)], [(0, 2**255)], [(True, 0)], [(0, "1")]):
        with pytest.raises(InvalidInput):
            ScoresTree(bad)  # type: ignore[arg-type]
    root = ScoresTree(scores).root
    assert not verify_score(root, 3, 10, [b"\x00" * 31])
    assert not verify_score(root[:31], 3, 10, ScoresTree(scores).proof(3))
    assert not verify_score(root, 3, 2**255, ScoresTree(scores).proof(3))


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.integers(0, 50), st.integers(-5, 5), max_size=20).map(lambda d: list(d.items())),
    st.integers(1, 10),
    st.integers(-3, 3),
    st.booleans(),
)
def test_winners_follow_the_reference_rule(
    scores: list[tuple[int, int]], places: int, bar: int, higher: bool
) -> None:
    picked = rules.winners(scores, places, bar, higher)
    assert picked == reference.reference_winners(scores, places, bar, higher)
    assert winners_hash(picked) == reference.winners_hash(picked)


def test_default_bond_is_a_hundredth_of_the_prize() -> None:
    assert rules.default_entry_bond(1_000_000_000) == 10_000_000
    assert rules.default_entry_bond(99) == 1  # never zero: the contract refuses a zero bond


def test_a_ranking_on_the_command_line_is_bounded_pairs() -> None:
    assert rules.parse_ranking("1:950000, 0:-3") == [(1, 950_000), (0, -3)]
    assert rules.parse_ranking("") == []
    for bad in (
        "1",
        "a:1",
        "1:x",
        f"{2**256}:1",
        f"0:{2**255}",
        f"0:{-(2**255) - 1}",
        "-1:5",
        "9" * 5000 + ":1",
    ):
        with pytest.raises(InvalidInput, match="ENTRY:SCORE"):
            rules.parse_ranking(bad)
