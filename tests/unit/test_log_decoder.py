"""Decoding logs into the index's plain values, with the ABIs the contracts were deployed with."""

from __future__ import annotations

import pytest
from eth_abi import encode

from proofwork.chain.artifacts import ArtifactStore
from proofwork.chain.encoding import keccak
from proofwork.chain.events import event_signature
from proofwork.chain.logs import _TOO_LARGE, EventDecoder, RawLog

ESCROW = "0x" + "11" * 20
REGISTRY = "0x" + "22" * 20
COMPETITION = "0x" + "33" * 20
CLIENT = "0x" + "aB" * 20


def abi_of(name: str) -> list[dict]:
    return ArtifactStore().get(name).abi


def event_abi(contract: str, name: str) -> dict:
    return next(i for i in abi_of(contract) if i.get("type") == "event" and i["name"] == name)


def topic(contract: str, name: str) -> bytes:
    return keccak(event_signature(event_abi(contract, name)).encode())


def word(value: int | str) -> bytes:
    if isinstance(value, str):
        return bytes(12) + bytes.fromhex(value[2:])
    return value.to_bytes(32, "big")


def raw(address: str, topics: list[bytes], data: bytes, block: int = 7) -> RawLog:
    return RawLog(block, "0x" + "0f" * 32, "0x" + "ee" * 32, 1, 2, address.lower(), tuple(topics), data)


@pytest.fixture(scope="module")
def decoder() -> EventDecoder:
    return EventDecoder(
        [
            (ESCROW, "JobEscrow", abi_of("JobEscrow")),
            (REGISTRY, "IssuerRegistry", abi_of("IssuerRegistry")),
            (COMPETITION, "Competition", abi_of("Competition")),
        ]
    )


def test_every_value_becomes_plain_json(decoder: EventDecoder) -> None:
    freelancer = "0x" + "cd" * 20
    big = 2**256 - 1
    data = encode(
        ["address", "address", "uint64", "uint64", "uint16", "bytes32", "uint256[]"],
        [CLIENT.lower(), "0x" + "00" * 20, 2**64 - 1, 3600, 250, b"\x01" * 32, [big, 5]],
    )
    log = raw(
        ESCROW, [topic("JobEscrow", "JobCreated"), word(42), word(CLIENT.lower()), word(freelancer)], data
    )
    event = decoder.decode(log)
    assert (event.contract, event.name, event.block_number, event.tx_index, event.log_index) == (
        "JobEscrow", "JobCreated", 7, 1, 2,
    )  # fmt: skip
    assert event.args == {
        "job_id": "42",
        "client": CLIENT.lower(),
        "freelancer": freelancer,
        "token": CLIENT.lower(),
        "arbiter": "0x" + "00" * 20,
        "deadline": str(2**64 - 1),
        "review_period": "3600",
        "fee_bps": "250",
        "spec_hash": "0x" + "01" * 32,
        "amounts": [str(big), "5"],
    }
    assert list(event.args) == [i["name"] for i in event_abi("JobEscrow", "JobCreated")["inputs"]]


def test_strings_are_kept_and_indexed_dynamic_values_are_their_hash(decoder: EventDecoder) -> None:
    did = "did:web:example.org"
    name = "Issuer \x00 with a NUL and " + "é"
    did_hash = keccak(did.encode())
    log = raw(
        REGISTRY,
        [topic("IssuerRegistry", "IssuerAccredited"), word(CLIENT.lower()), did_hash],
        encode(["string", "bytes"], [did, name.encode() + b"\xff"]),
    )
    args = decoder.decode(log).args
    assert args["did_hash"] == "0x" + did_hash.hex()
    assert args["did"] == did
    # no NUL (PostgreSQL's JSON refuses it), invalid UTF-8 replaced: the same on every database
    assert args["name"] == "Issuer \ufffd with a NUL and é\ufffd"


def test_tuples_become_objects_by_component_name(decoder: EventDecoder) -> None:
    spec = event_abi("Competition", "CompetitionFinalized")
    ranking = next(i for i in spec["inputs"] if i["name"] == "ranking")
    kinds = ",".join(c["type"] for c in ranking["components"])
    values = [tuple(1 if c["type"].startswith(("uint", "int")) else (b"\x02" * 32 if c["type"] == "bytes32" else CLIENT.lower()) for c in ranking["components"])]  # fmt: skip
    data = encode(
        ["uint256", "uint256", "bytes32", "uint256", f"({kinds})[]"], [1, 2, b"\x03" * 32, 4, values]
    )
    args = decoder.decode(
        raw(COMPETITION, [topic("Competition", "CompetitionFinalized"), word(9)], data)
    ).args
    assert args["comp_id"] == "9" and args["scores_root"] == "0x" + "03" * 32
    assert isinstance(args["ranking"], list) and len(args["ranking"]) == 1
    assert set(args["ranking"][0]) == {c["name"] for c in ranking["components"]}


def test_logs_the_abi_does_not_describe_keep_their_raw_topics_and_data(decoder: EventDecoder) -> None:
    unknown = raw(ESCROW, [b"\x99" * 32, word(1)], b"\x01\x02")
    event = decoder.decode(unknown)
    assert event.name == "" and event.contract == "JobEscrow"
    assert event.args == {"topics": ["0x" + "99" * 32, "0x" + word(1).hex()], "data": "0x0102"}
    # the right topic but data that does not decode (too short), or the wrong number of topics
    for broken in (
        raw(ESCROW, [topic("JobEscrow", "FeeChanged")], b"\x01"),
        raw(ESCROW, [topic("JobEscrow", "TreasuryChanged")], b""),
        raw(ESCROW, [], b""),
    ):
        assert decoder.decode(broken).name == ""
    other = decoder.decode(raw("0x" + "44" * 20, [topic("JobEscrow", "FeeChanged")], word(5)))
    assert (other.name, other.contract) == ("", "")


@pytest.mark.parametrize(
    "message",
    [
        "exceed maximum block range: 5000",
        "query returned more than 10000 results",
        "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range",
        "block range is too wide",
        "eth_getLogs is limited to a 10,000 range",
        "Block range too large",
        "requested too many blocks from 0 to 90000, maximum is set to 2048",
    ],
)
def test_what_nodes_say_about_too_large_ranges_is_recognised(message: str) -> None:
    assert _TOO_LARGE.search(message)


@pytest.mark.parametrize(
    "message", ["execution reverted", "invalid argument 0: hex string without 0x prefix"]
)
def test_other_errors_are_not_taken_for_a_range_limit(message: str) -> None:
    assert not _TOO_LARGE.search(message)
