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


EDGE_WORDS = [
    bytes(32),
    (1).to_bytes(32, "big"),
    (2).to_bytes(32, "big"),
    (255).to_bytes(32, "big"),
    (256).to_bytes(32, "big"),
    (2**63).to_bytes(32, "big"),
    (2**64 - 1).to_bytes(32, "big"),
    (2**64).to_bytes(32, "big"),
    (2**160 - 1).to_bytes(32, "big"),
    (2**160).to_bytes(32, "big"),
    (2**255).to_bytes(32, "big"),
    (2**256 - 1).to_bytes(32, "big"),
    (-1).to_bytes(32, "big", signed=True),
    (-128).to_bytes(32, "big", signed=True),
    (-129).to_bytes(32, "big", signed=True),
    b"\x01" + bytes(31),
    b"\xab" * 4 + bytes(28),
    b"\xab" * 4 + bytes(27) + b"\x01",
    bytes(range(32)),
]
STATIC_TYPES = ["uint8", "uint16", "uint64", "uint256", "int8", "int64", "int256", "address", "bool"]
STATIC_TYPES += ["bytes1", "bytes4", "bytes32"]


@pytest.mark.parametrize("kind", STATIC_TYPES)
def test_word_readers_agree_with_eth_abi_on_valid_and_invalid_words(kind: str) -> None:
    from eth_abi import decode as abi_decode
    from eth_abi.exceptions import DecodingError

    from proofwork.chain.logs import _SLOW, _reader, plain

    read = _reader(kind)
    assert read is not None
    agreed = rejected = 0
    for value in EDGE_WORDS:
        try:
            expected = plain(abi_decode([kind], value)[0], {"type": kind})
        except DecodingError:
            assert read(value) is _SLOW, (kind, value.hex())
            rejected += 1
        else:
            assert read(value) == expected, (kind, value.hex())
            agreed += 1
    assert agreed and (rejected or kind in ("uint256", "int256", "bytes32"))


def test_word_by_word_decoding_equals_eth_abi_for_every_contract_event() -> None:
    from proofwork.chain.logs import _abi_args, _fast_args, _spec

    names = ["JobEscrow", "IssuerRegistry", "Competition", "OracleCommittee", "Court", "CourtToken"]
    names += ["Attestations", "JobAttester", "EscrowArbitrable"]
    checked = 0
    for name in names:
        for item in abi_of(name):
            if item.get("type") != "event":
                continue
            spec = _spec(item)
            if spec.data_readers is None:
                continue
            for shift in range(len(EDGE_WORDS)):
                words = [EDGE_WORDS[(shift + i) % len(EDGE_WORDS)] for i in range(len(spec.names))]
                log = raw(
                    ESCROW,
                    [topic(name, item["name"]), *words[: len(spec.indexed)]],
                    b"".join(words[len(spec.indexed) :]),
                )
                fast = _fast_args(spec, log)
                assert fast is None or fast == _abi_args(spec, log), (name, item["name"], shift)
                if _abi_args(spec, log) is None:
                    assert fast is None
                checked += fast is not None
    assert checked > 20


def test_dynamic_arrays_are_read_word_by_word_only_in_the_standard_layout() -> None:
    from proofwork.chain.logs import _abi_args, _fast_args, _spec

    item = {
        "type": "event",
        "name": "Mixed",
        "anonymous": False,
        "inputs": [
            {"name": "id", "type": "uint256", "indexed": True},
            {"name": "who", "type": "address[]", "indexed": False},
            {"name": "fee", "type": "uint16", "indexed": False},
            {"name": "shares", "type": "uint16[]", "indexed": False},
            {"name": "amounts", "type": "int256[]", "indexed": False},
        ],
    }
    spec = _spec(item)
    assert spec.data_readers is not None
    head = [keccak(b"Mixed(uint256,address[],uint16,uint16[],int256[])"), word(9)]
    types = ["address[]", "uint16", "uint16[]", "int256[]"]
    good = encode(types, [[CLIENT.lower(), "0x" + "00" * 20], 250, [], [-(2**255), 2**255 - 1, 0]])
    fast = _fast_args(spec, raw(ESCROW, head, good))
    assert fast == _abi_args(spec, raw(ESCROW, head, good))
    assert fast == {
        "id": "9",
        "who": [CLIENT.lower(), "0x" + "00" * 20],
        "fee": "250",
        "shares": [],
        "amounts": [str(-(2**255)), str(2**255 - 1), "0"],
    }
    third = 32 * 4 + 32 * 3  # where `shares` starts
    variants = [
        good + bytes(32),  # trailing data
        good[:-32],  # truncated
        good[:third] + (2**16).to_bytes(32, "big") + good[third + 32 :],  # shares' length word wrong
        good[:32] + (2**16).to_bytes(32, "big") + good[64:],  # fee out of range
        good[:64] + (32 * 4 + 32 * 4).to_bytes(32, "big") + good[96:],  # offset not the standard one
        good[: 32 * 5] + b"\x01" + good[32 * 5 + 1 :],  # an address with bad padding
        encode(types, [[], 1, [7, 2**16 - 1], []]),
        encode(["address[]", "uint16", "uint16[]"], [[], 1, [7]]),  # one array short
    ]
    agreed = 0
    for data in variants:
        fast = _fast_args(spec, raw(ESCROW, head, data))
        slow = _abi_args(spec, raw(ESCROW, head, data))
        assert fast is None or fast == slow
        agreed += fast is not None
    assert agreed == 1  # only the standard encoding above is read word by word
