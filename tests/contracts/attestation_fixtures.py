"""Helpers for the attestation tests: deployers, the EAS uid derivations and event
topics computed independently in Python (eth_abi's packed encoder), the proofwork
schema encodings, and raw-log access.

Every contract here is deployed from an account of its own per test module (see
`committee_fixtures.COMMITTEE_DEPLOYER` for why: titanoboa's per-address storage trace
breaks when two modules deploy contracts of different layouts at one address).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import boa
import eth_abi
from boa.contracts.event_decoder import RawLogEntry
from eth_abi.packed import encode_packed
from eth_utils import keccak, to_checksum_address

REPO = Path(__file__).resolve().parents[2]
ATTESTATIONS_DIR = REPO / "contracts" / "attestations"
REGISTRY_PATH = ATTESTATIONS_DIR / "SchemaRegistry.vy"
ATTESTATIONS_PATH = ATTESTATIONS_DIR / "Attestations.vy"
RESOLVER_PATH = ATTESTATIONS_DIR / "ProofworkResolver.vy"
ATTESTER_PATH = ATTESTATIONS_DIR / "JobAttester.vy"
BADGE_MOCK_PATH = Path(__file__).resolve().parent / "mocks" / "MockSkillBadge.vy"

ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20

JOB_COMPLETED_SCHEMA = (
    "uint256 jobId,uint256 milestone,address client,address freelancer,address token,"
    "uint256 amountPaid,int256 score,bool verified,int256 threshold,bool higherIsBetter,"
    "bytes32 specHash,string skill"
)
JOB_COMPLETED_TYPES = [
    "uint256",  # jobId
    "uint256",  # milestone
    "address",  # client
    "address",  # freelancer
    "address",  # token
    "uint256",  # amountPaid
    "int256",  # score
    "bool",  # verified
    "int256",  # threshold
    "bool",  # higherIsBetter
    "bytes32",  # specHash
    "string",  # skill
]
REVIEW_SCHEMA = "uint8 rating,bytes32 commentHash"
REVIEW_TYPES = ["uint8", "bytes32"]

# keccak256 of the EAS event signatures (topic 0), written out by hand.
ATTESTED_SIG = "Attested(address,address,bytes32,bytes32)"
REVOKED_SIG = "Revoked(address,address,bytes32,bytes32)"
REGISTERED_SIG = "Registered(bytes32,address,(bytes32,address,bool,string))"


def topic(signature: str) -> int:
    return int.from_bytes(keccak(text=signature), "big")


def word(x) -> int:
    """An indexed address or bytes32 as the integer topic boa reports."""
    if isinstance(x, (bytes, bytearray)):
        return int.from_bytes(x, "big")
    return int(str(x), 16)


def deployer_account(label: str) -> str:
    return to_checksum_address(keccak(text=f"proofwork attestations deployer {label}")[12:])


# ------------------------------------------------------------------ EAS uids


def schema_uid(schema: str, resolver: str, revocable: bool) -> bytes:
    """EAS SchemaRegistry._getUID: keccak256(abi.encodePacked(schema, resolver, revocable))."""
    return keccak(encode_packed(["string", "address", "bool"], [schema, str(resolver), revocable]))


def attestation_uid(
    schema: bytes,
    recipient: str,
    attester: str,
    time: int,
    expiration: int,
    revocable: bool,
    ref_uid: bytes,
    data: bytes,
    bump: int = 0,
) -> bytes:
    """EAS EAS._getUID: keccak256(abi.encodePacked(schema, recipient, attester, time,
    expirationTime, revocable, refUID, data, bump)) with uint64 times and a uint32 bump."""
    packed = encode_packed(
        ["bytes32", "address", "address", "uint64", "uint64", "bool", "bytes32", "bytes", "uint32"],
        [schema, str(recipient), str(attester), time, expiration, revocable, ref_uid, data, bump],
    )
    return keccak(packed)


# ------------------------------------------------------------------ schema data


def encode_job_completed(
    job_id,
    milestone,
    client,
    freelancer,
    token,
    amount_paid,
    score,
    verified,
    skill,
    threshold=0,
    higher_is_better=False,
    spec_hash=b"\x00" * 32,
) -> bytes:
    return eth_abi.encode(
        JOB_COMPLETED_TYPES,
        [
            job_id,
            milestone,
            str(client),
            str(freelancer),
            str(token),
            amount_paid,
            score,
            verified,
            threshold,
            higher_is_better,
            spec_hash,
            skill,
        ],
    )


def decode_job_completed(data: bytes) -> tuple:
    return tuple(eth_abi.decode(JOB_COMPLETED_TYPES, bytes(data)))


def encode_review(rating: int, comment: bytes = keccak(b"great work")) -> bytes:
    return eth_abi.encode(REVIEW_TYPES, [rating, comment])


def request(schema: bytes, recipient, *, data=b"", expiration=0, revocable=False, ref=ZERO32, value=0):
    """An AttestationRequest tuple."""
    return (schema, (str(recipient), expiration, revocable, ref, data, value))


def revocation(schema: bytes, uid: bytes, value: int = 0):
    """A RevocationRequest tuple."""
    return (schema, (uid, value))


# ------------------------------------------------------------------ logs


def raw_logs(contract) -> list[RawLogEntry]:
    """Every log of `contract`'s last call (child calls included), undecoded, in order."""
    return [RawLogEntry(*e) for e in sorted(contract._computation.get_raw_log_entries())]


def logs_of(contract, emitter) -> list[RawLogEntry]:
    own = str(emitter.address).lower()
    return [log for log in raw_logs(contract) if to_checksum_address(log.address).lower() == own]


# ------------------------------------------------------------------ test-only contracts

# Resolver whose answers the test sets; records the last attestation it was asked about.
SWITCH_RESOLVER_SOURCE = """
# pragma version ~=0.4.3
struct Attestation:
    uid: bytes32
    schema: bytes32
    time: uint64
    expirationTime: uint64
    revocationTime: uint64
    refUID: bytes32
    recipient: address
    attester: address
    revocable: bool
    data: Bytes[1024]

accept_attest: public(bool)
accept_revoke: public(bool)
last_uid: public(bytes32)
last_revocation_time: public(uint64)
last_data: public(Bytes[1024])
calls: public(uint256)

@deploy
def __init__():
    self.accept_attest = True
    self.accept_revoke = True

@external
def set_answers(attest_: bool, revoke_: bool):
    self.accept_attest = attest_
    self.accept_revoke = revoke_

@external
@view
def isPayable() -> bool:
    return False

@external
def attest(a: Attestation) -> bool:
    self.calls += 1
    self.last_uid = a.uid
    self.last_data = a.data
    return self.accept_attest

@external
def revoke(a: Attestation) -> bool:
    self.calls += 1
    self.last_uid = a.uid
    self.last_revocation_time = a.revocationTime
    return self.accept_revoke
"""

# Stands in for the JobAttester in resolver unit tests: relays any call as itself.
FORWARDER_SOURCE = """
# pragma version ~=0.4.3
@external
def forward(target: address, payload: Bytes[4096]) -> Bytes[128]:
    return raw_call(target, payload, max_outsize=128)
"""


def attest_calldata(attestations, req) -> bytes:
    """ABI calldata of `attestations.attest(req)`."""
    selector = keccak(text="attest((bytes32,(address,uint64,bool,bytes32,bytes,uint256)))")[:4]
    return selector + eth_abi.encode(["(bytes32,(address,uint64,bool,bytes32,bytes,uint256))"], [req])


class AttestationStack:
    """SchemaRegistry + Attestations deployed from one module's own account."""

    def __init__(self, label: str) -> None:
        self.deployer = deployer_account(label)
        self.registry_partial = boa.load_partial(str(REGISTRY_PATH))
        self.attestations_partial = boa.load_partial(str(ATTESTATIONS_PATH))
        self.resolver_partial = boa.load_partial(str(RESOLVER_PATH))
        self.attester_partial = boa.load_partial(str(ATTESTER_PATH))
        self.badge_partial = boa.load_partial(str(BADGE_MOCK_PATH))

    def deploy(self, partial, *args):
        with boa.env.prank(self.deployer):
            return partial.deploy(*args)

    def core(self) -> SimpleNamespace:
        registry = self.deploy(self.registry_partial)
        attestations = self.deploy(self.attestations_partial, registry.address)
        return SimpleNamespace(registry=registry, attestations=attestations)

    def loads(self, source: str, *args):
        with boa.env.prank(self.deployer):
            return boa.loads(source, *args)


__all__ = [
    "ATTESTED_SIG",
    "FORWARDER_SOURCE",
    "JOB_COMPLETED_SCHEMA",
    "REGISTERED_SIG",
    "REVIEW_SCHEMA",
    "REVOKED_SIG",
    "SWITCH_RESOLVER_SOURCE",
    "ZERO32",
    "ZERO_ADDRESS",
    "AttestationStack",
    "attest_calldata",
    "attestation_uid",
    "decode_job_completed",
    "encode_job_completed",
    "encode_review",
    "logs_of",
    "raw_logs",
    "request",
    "revocation",
    "schema_uid",
    "topic",
    "word",
]
