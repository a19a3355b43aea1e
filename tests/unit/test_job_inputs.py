"""A job's terms document (its input assets): one encoding, hostile documents refused in one line, and
each recorded licence's status from what the chain says."""

from __future__ import annotations

import json

import pytest

from proofwork.domain import job_inputs as D
from proofwork.domain.errors import InvalidInput

CLIENT = "0x" + "11" * 20
TOKEN = "0x" + "22" * 20
LICENSING = "0x" + "33" * 20
BOUGHT = D.InputAsset(2, 1, 5, "download", True, "0x" + "22" * 20, 10_030_000)


def _terms(**changes: object) -> D.JobTerms:
    from dataclasses import replace

    from proofwork.domain.addresses import parse_address

    base = D.JobTerms(
        31337,
        parse_address(LICENSING),
        parse_address(CLIENT),
        (D.InputAsset(2, 1, 5, "download", True, parse_address(TOKEN), 10_030_000),),
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        bytes(range(32)),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_document_round_trips_in_one_encoding() -> None:
    terms = _terms()
    data = terms.canonical_bytes()
    assert D.is_terms_document(data) and D.parse_terms(data) == terms
    assert data == D.parse_terms(data).canonical_bytes()  # canonical: equal terms, equal bytes, one CID
    assert b" " not in data and json.loads(data)["input_assets"][0]["price"] == "10030000"
    bare = _terms(spec_cid=None, spec_hash=None)
    assert D.parse_terms(bare.canonical_bytes()) == bare


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d.update(type="something/else"), "not a version 1"),
        (lambda d: d.update(version=2), "not a version 1"),
        (lambda d: d["input_assets"].extend(d["input_assets"] * 4), "at most 4 input assets"),
        (lambda d: d["input_assets"][0].update(price=10), "amount as decimal text"),
        (lambda d: d["input_assets"][0].update(price="-1"), "amount as decimal text"),
        (lambda d: d["input_assets"][0].update(licence_id=-5), "whole number"),
        (lambda d: d["input_assets"][0].update(licence_id=True), "whole number"),
        (lambda d: d["input_assets"][0].update(kind="stream"), "unknown licence kind"),
        (lambda d: d["input_assets"][0].update(commercial="yes"), "true or false"),
        (lambda d: d["input_assets"][0].pop("offer_id"), "malformed job terms document"),
        (lambda d: d.update(client="0x1234"), "client"),
        (lambda d: d["spec"].update(hash="0xabcd"), "not 32 bytes"),
        (lambda d: d["spec"].update(cid=7), "not text"),
    ],
)
def test_a_hostile_document_is_refused_in_one_line(edit: object, match: str) -> None:
    doc = json.loads(_terms().canonical_bytes())
    edit(doc)  # type: ignore[operator]
    with pytest.raises(InvalidInput, match=match) as raised:
        D.parse_terms(json.dumps(doc).encode())
    assert "\n" not in str(raised.value)


def test_too_large_or_too_deep_is_refused() -> None:
    with pytest.raises(InvalidInput):
        D.parse_terms(b'{"type": "proofwork/job-terms", "pad": "' + b"x" * D.MAX_TERMS_BYTES + b'"}')
    with pytest.raises(InvalidInput):
        D.parse_terms(b"[" * 50 + b"]" * 50)


def test_other_files_are_not_taken_for_terms_documents() -> None:
    assert not D.is_terms_document(b"Fine-tune the model; report accuracy.\n")
    assert not D.is_terms_document(b'{"metric": "accuracy"}')


@pytest.mark.parametrize(
    ("chain", "status"),
    [
        ({}, D.VALID),
        ({"expires_at": 2_000}, D.VALID),
        ({"expires_at": 1_000}, D.EXPIRED),
        ({"revoked": True}, D.REVOKED),
        ({"holder": ""}, D.SURRENDERED),
        ({"holder": "0x" + "44" * 20}, D.NOT_THE_CLIENTS),
        ({"asset_id": 3}, D.MISMATCH),
        ({"offer_id": 9}, D.MISMATCH),
    ],
)
def test_a_recorded_licence_is_valid_only_as_recorded_held_and_in_force(
    chain: dict[str, object], status: str
) -> None:
    seen: dict[str, object] = {
        "holder": CLIENT.upper().replace("0X", "0x"),  # addresses compare case-blind
        "asset_id": 2,
        "offer_id": 1,
        "revoked": False,
        "expires_at": 0,
        "now": 1_000,
    } | chain
    assert D.input_status(BOUGHT, CLIENT, **seen) == status  # type: ignore[arg-type]


def test_input_counts_and_repeats() -> None:
    D.check_input_count(3, 1)
    with pytest.raises(InvalidInput, match="at most 4"):
        D.check_input_count(4, 1)
    with pytest.raises(InvalidInput, match="offer 3 is named twice"):
        D.check_distinct([3, 1, 3], "offer")
