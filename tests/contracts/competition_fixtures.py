"""Helpers for the Competition contract tests: commitments, the committee's
EIP-712 signatures, a Python reference of the payout rule, and `Arena`, a small
driver that remembers each entry's secret so tests can reveal and finalize.

Everything the contract hashes is recomputed here independently with eth_abi /
eth_account, so the tests also pin the exact encodings the SDK must use:

- labels commitment  = keccak256(abi.encode(bytes labels_cid, bytes32 salt, bytes32 spec_hash))
- submission commit  = keccak256(abi.encode(bytes submission_cid, bytes32 salt, address submitter))
- scoresHash         = keccak256(abi.encode((uint256 entry, int256 score)[] ranking))
- signed message     = EIP-712 FinalScores(uint256 competitionId,bytes32 scoresHash,bytes32 commitment)
                       in the domain ("proofwork Competition", "1", chain id, contract address)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import boa
import eth_abi
from escrow_harness import chain_id, new_account, now
from eth_account.messages import encode_typed_data
from eth_utils import keccak

DAY = 86_400
USD = 10**6
BPS = 10_000
GRACE_PERIOD = 30 * DAY
SCORE_ONE = 10**6  # scores are fixed point, 1e6 = 1.0

DOMAIN_NAME = "proofwork Competition"
DOMAIN_VERSION = "1"

SPEC = hashlib.sha256(b"competition spec: classify digits, metric accuracy").digest()
LABELS_CID = b"bafkreihiddenlabelsofthecompetitionxxxxxxxxxxxxxxxxxxxxxxxxx"
LABELS_SALT = keccak(b"labels salt")
SEALED_LABELS = b"\x01" * 96

OPEN, FINALIZED, CANCELLED = 0, 1, 2

_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_FINAL_SCORES_FIELDS = [
    {"name": "competitionId", "type": "uint256"},
    {"name": "scoresHash", "type": "bytes32"},
    {"name": "commitment", "type": "bytes32"},
]


def labels_commitment(cid: bytes = LABELS_CID, salt: bytes = LABELS_SALT, spec: bytes = SPEC) -> bytes:
    return keccak(eth_abi.encode(["bytes", "bytes32", "bytes32"], [cid, salt, spec]))


def submission_commitment(cid: bytes, salt: bytes, submitter: str) -> bytes:
    return keccak(eth_abi.encode(["bytes", "bytes32", "address"], [cid, salt, submitter]))


def scores_hash(ranking: list[tuple[int, int]]) -> bytes:
    return keccak(eth_abi.encode(["(uint256,int256)[]"], [[tuple(s) for s in ranking]]))


def final_scores_message(
    contract,
    comp_id: int,
    scores: bytes,
    commitment: bytes,
    *,
    chain: int | None = None,
    name: str = DOMAIN_NAME,
) -> dict:
    return {
        "types": {"EIP712Domain": _DOMAIN_FIELDS, "FinalScores": _FINAL_SCORES_FIELDS},
        "primaryType": "FinalScores",
        "domain": {
            "name": name,
            "version": DOMAIN_VERSION,
            "chainId": chain_id() if chain is None else chain,
            "verifyingContract": str(contract.address),
        },
        "message": {"competitionId": comp_id, "scoresHash": scores, "commitment": commitment},
    }


def cid_digest(message: dict) -> bytes:
    signable = encode_typed_data(full_message=message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_all(signers, message: dict, *, order: str = "ascending") -> list[bytes]:
    """Signatures of `signers` on `message`, ordered by signer address (as `finalize` wants)."""
    ordered = sorted(signers, key=lambda acc: int(acc.address, 16), reverse=order == "descending")
    signable = encode_typed_data(full_message=message)
    return [bytes(acc.sign_message(signable).signature) for acc in ordered]


def qualifies(score: int, bar: int, higher_is_better: bool) -> bool:
    return score >= bar if higher_is_better else score <= bar


def reference_payouts(
    ranking: list[tuple[int, int]], prize_bps: list[int], prize: int, bar: int, higher_is_better: bool
) -> tuple[list[tuple[int, int, int]], int]:
    """The payout rule, independently: ([(place, entry, amount)], refund).

    Winners are the best `len(prize_bps)` entries reaching the bar, ties to the
    lower entry index; place p gets prize * prize_bps[p] // 10000; the client gets the rest."""
    eligible = [(e, s) for e, s in ranking if qualifies(s, bar, higher_is_better)]
    eligible.sort(key=(lambda x: (-x[1], x[0])) if higher_is_better else (lambda x: (x[1], x[0])))
    payouts = [(p, e, prize * prize_bps[p] // BPS) for p, (e, _) in enumerate(eligible[: len(prize_bps)])]
    return payouts, prize - sum(a for _, _, a in payouts)


def events(contract, name: str | None = None) -> list:
    """Decoded events `contract` emitted in the last call (optionally only `name`)."""
    logs = [lg for lg in contract.get_logs() if str(lg.address).lower() == str(contract.address).lower()]
    return [lg for lg in logs if name is None or type(lg).__name__ == name]


def travel_to(t: int) -> None:
    assert t >= now(), "cannot travel back in time"
    boa.env.time_travel(seconds=t - now())


@dataclass
class Secret:
    submitter: str
    cid: bytes
    salt: bytes


@dataclass
class Arena:
    """A deployed Competition with its stand-in committee, token and oracles."""

    comp: object
    token: object
    committee: object
    minter: str  # the token's owner (minter)
    client: str
    oracles: list  # eth_account accounts, all committee members
    secrets: dict[tuple[int, int], Secret] = field(default_factory=dict)

    # Defaults of `create`.
    PRIZE = 10_000 * USD
    REVEAL_PERIOD = 2 * DAY
    DEADLINE_IN = 7 * DAY

    def params(self, **kw) -> dict:
        p = {
            "token": self.token.address,
            "prize": self.PRIZE,
            "spec_hash": SPEC,
            "commitment": labels_commitment(),
            "deadline": now() + self.DEADLINE_IN,
            "reveal_period": self.REVEAL_PERIOD,
            "daily_limit": 5,
            "public_percent": 30,
            "prize_bps": [5_000, 3_000, 2_000],
            "min_score": 0,
            "higher_is_better": True,
            "sealed_labels": SEALED_LABELS,
        }
        p.update(kw)
        return p

    def fund(self, client: str, amount: int) -> None:
        self.token.mint(client, amount, sender=self.minter)
        self.token.approve(self.comp.address, amount, sender=client)

    def create(self, client: str | None = None, *, fund: bool = True, **kw) -> int:
        client = client or self.client
        p = self.params(**kw)
        if fund:
            self.fund(client, p["prize"])
        return self.comp.create(*p.values(), sender=client)

    def commit(self, submitter, comp_id: int, cid: bytes | None = None, salt: bytes | None = None) -> int:
        who = getattr(submitter, "address", submitter)
        n = len(self.secrets)
        cid = cid if cid is not None else b"bafkreisubmission" + str(n).encode()
        salt = salt if salt is not None else keccak(b"salt %d" % n)
        entry = self.comp.commit(comp_id, submission_commitment(cid, salt, who), b"sealed:" + cid, sender=who)
        self.secrets[(comp_id, entry)] = Secret(str(who), cid, salt)
        return entry

    def reveal(self, comp_id: int, entry: int, sender: str | None = None) -> None:
        s = self.secrets[(comp_id, entry)]
        self.comp.reveal(comp_id, entry, s.cid, s.salt, sender=sender or s.submitter)

    def deadline(self, comp_id: int) -> int:
        return self.comp.competition(comp_id).deadline

    def to_reveal(self, comp_id: int) -> None:
        travel_to(self.deadline(comp_id) + 1)

    def to_finalize(self, comp_id: int) -> None:
        c = self.comp.competition(comp_id)
        travel_to(c.deadline + c.reveal_period + 1)

    def signatures(self, comp_id: int, ranking, signers=None, commitment: bytes | None = None) -> list[bytes]:
        signers = self.oracles[: self.committee.threshold()] if signers is None else signers
        commitment = self.comp.competition(comp_id).commitment if commitment is None else commitment
        return sign_all(signers, final_scores_message(self.comp, comp_id, scores_hash(ranking), commitment))

    def finalize(
        self,
        comp_id: int,
        ranking,
        signatures: list[bytes] | None = None,
        *,
        labels_cid: bytes = LABELS_CID,
        labels_salt: bytes = LABELS_SALT,
        sender: str | None = None,
    ) -> int:
        if signatures is None:
            signatures = self.signatures(comp_id, ranking)
        return self.comp.finalize(
            comp_id, labels_cid, labels_salt, list(ranking), signatures, sender=sender or self.client
        )

    def run(
        self,
        scores: list[int],
        *,
        submitters: list | None = None,
        reveal: list[bool] | None = None,
        **create_kw,
    ) -> tuple[int, list[tuple[int, int]]]:
        """Creates a competition, commits one entry per score (from `submitters`, cycling),
        reveals those flagged and moves past the reveal period. Returns the id and the
        full ranking [(entry, score)] of the revealed entries."""
        submitters = submitters or players(4)
        reveal = reveal if reveal is not None else [True] * len(scores)
        comp_id = self.create(**create_kw)
        entries = [self.commit(submitters[i % len(submitters)], comp_id) for i in range(len(scores))]
        self.to_reveal(comp_id)
        for e, r in zip(entries, reveal, strict=True):
            if r:
                self.reveal(comp_id, e)
        self.to_finalize(comp_id)
        return comp_id, [(e, s) for e, s, r in zip(entries, scores, reveal, strict=True) if r]


def players(n: int) -> list:
    return [new_account(f"competition player {i}") for i in range(n)]


def oracle_accounts(n: int) -> list:
    return [new_account(f"competition oracle {i}") for i in range(n)]
