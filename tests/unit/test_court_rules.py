"""The court's pure pieces: votes and shares as typed, the court's parameters (small claims), the
vote salt store on disk, the salt and commitment both sides compute, and the demo's choice of seats."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from proofwork.chain.court_values import derive_salt, extra_data, vote_commitment
from proofwork.domain import court as C
from proofwork.domain.errors import DataDirCorrupted, InvalidInput
from proofwork.services.demo_court import against_seats
from proofwork.storage.votes import StoredVote, VoteStore

COURT = "0x" + "ab" * 20
JUROR = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"


@pytest.mark.parametrize(
    "text,choice",
    [("freelancer", 1), ("Client", 2), ("refuse", 0), ("75%", 3), ("50", 4), ("25", 5), ("3", 3), (4, 4)],
)
def test_votes_by_name_or_number(text: str | int, choice: int) -> None:
    assert C.parse_vote(text) == choice


@pytest.mark.parametrize("text", ["maybe", "6", "-1", "", 9, "1.5"])
def test_bad_votes_are_refused(text: str | int) -> None:
    with pytest.raises(InvalidInput, match="invalid vote"):
        C.parse_vote(text)


@pytest.mark.parametrize(
    "text,bps", [("60", 6_000), ("60%", 6_000), ("62.5 %", 6_250), ("0", 0), ("100", 10_000), (2_500, 2_500)]
)
def test_settlement_shares(text: str | int, bps: int) -> None:
    assert C.parse_share(text) == bps


@pytest.mark.parametrize("text", ["140", "-5", "1.234", "half", "", 10_001])
def test_bad_shares_are_refused(text: str | int) -> None:
    with pytest.raises(InvalidInput):
        C.parse_share(text)


def test_rulings_match_escrow_rulings_vy() -> None:
    assert [C.freelancer_bps(r) for r in range(6)] == [5_000, 10_000, 0, 7_500, 5_000, 2_500]
    with pytest.raises(InvalidInput):
        C.freelancer_bps(6)


def test_small_claims_cost_at_most_ten_percent_of_a_50_token_milestone() -> None:
    params = C.default_params(6)
    params.check()
    amount = 50 * 10**6
    seats = C.first_panel(amount, params.small_claim_limit, params.jurors)
    cost = seats * C.fee_per_juror(amount, params.fee_bps)
    assert seats == 1 and cost == 1_500_000 <= 5 * 10**6
    # four rounds of periods and the fee timeout fit before the escrow's 30-day fallback
    assert 4 * sum(params.periods) + params.fee_timeout < 30 * C.DAY
    assert C.first_panel(100 * 10**6, params.small_claim_limit) == 3


@pytest.mark.parametrize(
    "change,match",
    [
        ({"min_stake": 1}, "minimum stake"),
        ({"fee_bps": 1_001}, "10 %"),
        ({"periods": (0, 1, 1, 1)}, "longer than zero"),
        ({"periods": (7 * C.DAY, 1, 1, 1)}, "25 days"),
        ({"jurors": 4}, "odd"),
        ({"fee_timeout": 4 * C.DAY + 1}, "fee timeout is 1 second to 4 days"),
    ],
)
def test_court_parameters_are_checked_before_deploying(change: dict[str, object], match: str) -> None:
    from dataclasses import replace

    with pytest.raises(InvalidInput, match=match):
        replace(C.default_params(6), **change).check()  # type: ignore[arg-type]


def test_period_end() -> None:
    periods = (10, 20, 30, 40)
    assert C.period_end(C.Period.REVEAL, 100, periods) == 130
    assert C.period_end(C.Period.EXECUTION, 100, periods) is None


def test_commitment_and_extra_data_are_what_the_contracts_hash() -> None:
    salt = bytes(range(32))
    expected = keccak(encode(["uint256", "bytes32", "address"], [3, salt, JUROR]))
    assert vote_commitment(3, salt, JUROR.lower()) == expected
    token = "0x" + "11" * 20
    assert extra_data(token, 5, 0) == encode(["address", "uint256", "uint256"], [token, 5, 0])


def test_salts_are_secret_per_seat_and_reproducible() -> None:
    key, other = b"\x01" * 32, b"\x02" * 32
    salt = derive_salt(key, 1, COURT, 4, 0, 2)
    assert salt == derive_salt(key, 1, COURT.upper().replace("0X", "0x"), 4, 0, 2)
    seats = {derive_salt(key, 1, COURT, 4, r, s) for r in range(3) for s in range(3)}
    assert len(seats) == 9 and salt != derive_salt(other, 1, COURT, 4, 0, 2)
    assert salt != derive_salt(key, 2, COURT, 4, 0, 2) and len(salt) == 32


def vote(seat: int = 0, dispute: int = 7) -> StoredVote:
    salt = derive_salt(b"\x05" * 32, 1, COURT, dispute, 0, seat)
    return StoredVote(
        JUROR, dispute, 0, seat, 1, "0x" + salt.hex(), "0x" + vote_commitment(1, salt, JUROR).hex()
    )


def test_a_stored_vote_is_private_and_reads_back(tmp_path: Path) -> None:
    store = VoteStore(tmp_path / "votes", 1, COURT)
    path = store.save(vote())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert store.load(JUROR, 7, 0, 0) == vote()
    assert store.load(JUROR.lower(), 7, 0, 1) is None
    store.save(vote(seat=2))
    assert store.seats(JUROR) == [(7, 0, 0), (7, 0, 2)]
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # atomic: no leftovers
    # another chain or court keeps its own votes
    assert VoteStore(tmp_path / "votes", 2, COURT).load(JUROR, 7, 0, 0) is None


@pytest.mark.parametrize(
    "content", ["{", "[]", json.dumps({"juror": JUROR}), json.dumps({**vote().__dict__, "salt": "0x12"})]
)
def test_a_damaged_vote_file_is_refused_in_one_line(tmp_path: Path, content: str) -> None:
    store = VoteStore(tmp_path / "votes", 1, COURT)
    path = store.save(vote())
    path.write_text(content)
    with pytest.raises(DataDirCorrupted):
        store.load(JUROR, 7, 0, 0)


def test_a_vote_file_for_another_seat_is_refused(tmp_path: Path) -> None:
    store = VoteStore(tmp_path / "votes", 1, COURT)
    store.save(vote(seat=1))
    store.path(JUROR, 7, 0, 1).rename(store.path(JUROR, 7, 0, 0))
    with pytest.raises(DataDirCorrupted, match="damaged"):
        store.load(JUROR, 7, 0, 0)


def test_bad_seat_coordinates_are_programming_errors(tmp_path: Path) -> None:
    store = VoteStore(tmp_path, 1, COURT)
    with pytest.raises(ValueError):
        store.path("not an address", 1, 0, 0)
    with pytest.raises(ValueError):
        store.path(JUROR, -1, 0, 0)


@given(st.lists(st.sampled_from("abcdefg"), min_size=7, max_size=7))
def test_the_demo_picks_two_seats_against(jurors: list[str]) -> None:
    panel = list(enumerate(jurors))
    no = against_seats(panel, 2)
    assert len(no) == 2
    chosen = {jurors[p] for p in no}
    whole = all(all(p in no for p, j in panel if j == juror) for juror in chosen)
    counts = sorted(jurors.count(j) for j in set(jurors))
    # whole jurors vote against whenever some jurors' seats add up to 2
    if 2 in counts or counts.count(1) >= 2:
        assert whole


def test_rulings_and_fees_follow_the_court() -> None:
    # Court._ruling_of: the most voted choice, 0 on a tie or without votes
    assert C.majority([1, 1, 2]) == 1 and C.majority([1, 2]) == 0 and C.majority([]) == 0
    assert C.majority([3, 3, 0, 0, 5]) == 0 and C.majority([0]) == 0 and C.majority([11, 11, 4]) == 11
    # Court._current_ruling: a round nobody revealed in changes nothing
    assert C.current_ruling([[1, 1, 2], []]) == 1
    assert C.current_ruling([[1], [2, 2, 1], []]) == 2
    assert C.current_ruling([[], []]) == 0 and C.current_ruling([]) == 0
    # Court._fee_per_juror: at least one token unit
    assert C.fee_per_juror(0, 300) == 1 and C.fee_per_juror(10, 300) == 1 and C.fee_per_juror(100, 300) == 3
    assert C.CHOICES <= C.MAX_CHOICES == 11


def test_the_draw_is_armed_then_made_in_a_later_block_within_its_window() -> None:
    assert C.draw_step(0, 50) == "arm"
    assert C.draw_step(50, 50) == "wait"
    assert C.draw_step(50, 51) == "draw" and C.draw_step(50, 50 + C.DRAW_WINDOW) == "draw"
    assert C.draw_step(50, 51 + C.DRAW_WINDOW) == "arm"  # its block's hash is gone: armed again
