"""Helpers for the Competition contract tests: commitments, the committee's
EIP-712 signatures, a Python reference of the payout rule, and `Arena`, a small
driver that remembers each entry's secret so tests can reveal and finalize.

Everything the contract hashes is recomputed here independently with eth_abi /
eth_account, so the tests also pin the exact encodings the SDK must use:

- labels commitment  = keccak256(abi.encode(bytes labels_cid, bytes32 salt, bytes32 spec_hash))
- submission commit  = keccak256(abi.encode(bytes submission_cid, bytes32 salt, address submitter))
- winnersHash        = keccak256(abi.encode((uint256 entry, int256 score)[] winners))
- scoresRoot         = OpenZeppelin StandardMerkleTree root of ["uint256", "int256"] leaves
                       (entry, score) over every revealed entry (zero when none)
- signed messages    = EIP-712 LabelsConfirmed(uint256 competitionId,bytes32 commitment) and
                       FinalScores(uint256 competitionId,bytes32 scoresRoot,uint256 entries,
                       bytes32 winnersHash,bytes32 commitment)
                       in the domain ("proofwork Competition", "1", chain id, contract address)

`Arena` plays the committee: `create` confirms the labels, `finalize(comp_id, ranking)`
takes every revealed entry's score, builds the tree, picks the winners by the reference
rule and signs. Payouts are credited; `withdraw` pulls them.
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
    {"name": "scoresRoot", "type": "bytes32"},
    {"name": "entries", "type": "uint256"},
    {"name": "winnersHash", "type": "bytes32"},
    {"name": "commitment", "type": "bytes32"},
]
_LABELS_CONFIRMED_FIELDS = [
    {"name": "competitionId", "type": "uint256"},
    {"name": "commitment", "type": "bytes32"},
]
BOND = 2 * USD  # default entry bond


def labels_commitment(cid: bytes = LABELS_CID, salt: bytes = LABELS_SALT, spec: bytes = SPEC) -> bytes:
    return keccak(eth_abi.encode(["bytes", "bytes32", "bytes32"], [cid, salt, spec]))


def submission_commitment(cid: bytes, salt: bytes, submitter: str) -> bytes:
    return keccak(eth_abi.encode(["bytes", "bytes32", "address"], [cid, salt, submitter]))


def winners_hash(winners: list[tuple[int, int]]) -> bytes:
    return keccak(eth_abi.encode(["(uint256,int256)[]"], [[tuple(s) for s in winners]]))


def score_leaf(entry: int, score: int) -> bytes:
    """OpenZeppelin StandardMerkleTree leaf of ["uint256", "int256"] values."""
    return keccak(keccak(eth_abi.encode(["uint256", "int256"], [entry, score])))


def _hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(min(a, b) + max(a, b))


def scores_tree(ranking: list[tuple[int, int]]) -> list[bytes]:
    """OpenZeppelin's StandardMerkleTree layout: leaves sorted by hash, placed at the end of
    an array of 2n - 1 nodes in reverse, parents hash their sorted children."""
    leaves = sorted(score_leaf(e, s) for e, s in ranking)
    if not leaves:
        return []
    tree: list[bytes] = [b""] * (2 * len(leaves) - 1)
    for i, leaf in enumerate(leaves):
        tree[len(tree) - 1 - i] = leaf
    for i in range(len(tree) - 1 - len(leaves), -1, -1):
        tree[i] = _hash_pair(tree[2 * i + 1], tree[2 * i + 2])
    return tree


def scores_root(ranking: list[tuple[int, int]]) -> bytes:
    tree = scores_tree(ranking)
    return tree[0] if tree else b"\x00" * 32


def score_proof(ranking: list[tuple[int, int]], entry: int, score: int) -> list[bytes]:
    tree = scores_tree(ranking)
    index = tree.index(score_leaf(entry, score))
    proof = []
    while index > 0:
        proof.append(tree[index + 1 if index % 2 else index - 1])
        index = (index - 1) // 2
    return proof


def _domain(contract, chain, name) -> dict:
    return {
        "name": name,
        "version": DOMAIN_VERSION,
        "chainId": chain_id() if chain is None else chain,
        "verifyingContract": str(contract.address),
    }


def final_scores_message(
    contract,
    comp_id: int,
    root: bytes,
    entries: int,
    winners: bytes,
    commitment: bytes,
    *,
    chain: int | None = None,
    name: str = DOMAIN_NAME,
) -> dict:
    return {
        "types": {"EIP712Domain": _DOMAIN_FIELDS, "FinalScores": _FINAL_SCORES_FIELDS},
        "primaryType": "FinalScores",
        "domain": _domain(contract, chain, name),
        "message": {
            "competitionId": comp_id,
            "scoresRoot": root,
            "entries": entries,
            "winnersHash": winners,
            "commitment": commitment,
        },
    }


def labels_confirmed_message(
    contract, comp_id: int, commitment: bytes, *, chain=None, name=DOMAIN_NAME
) -> dict:
    return {
        "types": {"EIP712Domain": _DOMAIN_FIELDS, "LabelsConfirmed": _LABELS_CONFIRMED_FIELDS},
        "primaryType": "LabelsConfirmed",
        "domain": _domain(contract, chain, name),
        "message": {"competitionId": comp_id, "commitment": commitment},
    }


def digest_of(message: dict) -> bytes:
    signable = encode_typed_data(full_message=message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_all(signers, message: dict, *, order: str = "ascending") -> list[bytes]:
    """Signatures of `signers` on `message`, ordered by signer address (as `finalize` wants)."""
    ordered = sorted(signers, key=lambda acc: int(acc.address, 16), reverse=order == "descending")
    signable = encode_typed_data(full_message=message)
    return [bytes(acc.sign_message(signable).signature) for acc in ordered]


def qualifies(score: int, bar: int, higher_is_better: bool) -> bool:
    return score >= bar if higher_is_better else score <= bar


def reference_winners(
    ranking: list[tuple[int, int]], places: int, bar: int, higher_is_better: bool
) -> list[tuple[int, int]]:
    """The best `places` entries reaching the bar, best first, ties to the lower entry index."""
    eligible = [(e, s) for e, s in ranking if qualifies(s, bar, higher_is_better)]
    eligible.sort(key=(lambda x: (-x[1], x[0])) if higher_is_better else (lambda x: (x[1], x[0])))
    return eligible[:places]


def reference_payouts(
    ranking: list[tuple[int, int]], prize_bps: list[int], prize: int, bar: int, higher_is_better: bool
) -> tuple[list[tuple[int, int, int]], int]:
    """The payout rule, independently: ([(place, entry, amount)], refund of the prize).

    Winners are the best `len(prize_bps)` entries reaching the bar, ties to the
    lower entry index; place p gets prize * prize_bps[p] // 10000; the client gets the rest
    (plus, on chain, the forfeited bonds of entries never revealed)."""
    winners = reference_winners(ranking, len(prize_bps), bar, higher_is_better)
    payouts = [(p, e, prize * prize_bps[p] // BPS) for p, (e, _) in enumerate(winners)]
    return payouts, prize - sum(a for _, _, a in payouts)


def events(contract, name: str | None = None, logs=None) -> list:
    """Decoded events `contract` emitted in the last call (or among `logs`), optionally only `name`.
    titanoboa's last call includes views: keep `contract.get_logs()` before reading state."""
    logs = contract.get_logs() if logs is None else logs
    logs = [lg for lg in logs if str(lg.address).lower() == str(contract.address).lower()]
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
    minter: str  # the token's owner (minter); None for tokens anyone may mint
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
            "entry_bond": BOND,
            "public_percent": 30,
            "prize_bps": [5_000, 3_000, 2_000],
            "min_score": 0,
            "higher_is_better": True,
            "sealed_labels": SEALED_LABELS,
        }
        p.update(kw)
        return p

    def mint(self, to: str, amount: int) -> None:
        if self.minter is None:
            self.token.mint(to, amount)
        else:
            self.token.mint(to, amount, sender=self.minter)

    def fund(self, client: str, amount: int) -> None:
        self.mint(client, amount)
        self.token.approve(self.comp.address, amount, sender=client)

    def bankroll(self, *accounts) -> None:
        """Gives entrants tokens for their bonds and approves the contract for them."""
        for acc in accounts:
            who = str(getattr(acc, "address", acc))
            self.mint(who, 10**15)
            self.token.approve(self.comp.address, 2**255, sender=who)

    def create(self, client: str | None = None, *, fund: bool = True, confirm: bool = True, **kw) -> int:
        client = client or self.client
        p = self.params(**kw)
        if fund:
            self.fund(client, p["prize"])
        comp_id = self.comp.create(*p.values(), sender=client)
        if confirm:
            self.confirm(comp_id)
        return comp_id

    def confirm_signatures(self, comp_id: int, signers=None, commitment: bytes | None = None, **kw) -> list:
        signers = self.oracles[: self.committee.threshold()] if signers is None else signers
        commitment = self.comp.competition(comp_id).commitment if commitment is None else commitment
        return sign_all(signers, labels_confirmed_message(self.comp, comp_id, commitment, **kw))

    def confirm(self, comp_id: int, signatures=None) -> None:
        """The committee confirms the labels open the commitment."""
        self.comp.confirm_labels(
            comp_id, self.confirm_signatures(comp_id) if signatures is None else signatures
        )

    def commit(self, submitter, comp_id: int, cid: bytes | None = None, salt: bytes | None = None) -> int:
        who = getattr(submitter, "address", submitter)
        if self.token.allowance(who, self.comp.address) < 2**254:
            self.bankroll(who)
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

    def result(self, comp_id: int, ranking) -> tuple[bytes, list[tuple[int, int]]]:
        """What the committee signs for a full ranking: the scores root and the winners."""
        c = self.comp.competition(comp_id)
        winners = reference_winners(list(ranking), len(c.prize_bps), c.min_score, c.higher_is_better)
        return scores_root(list(ranking)), winners

    def signatures(
        self,
        comp_id: int,
        ranking,
        signers=None,
        commitment: bytes | None = None,
        *,
        winners=None,
        entries: int | None = None,
        **kw,
    ) -> list[bytes]:
        signers = self.oracles[: self.committee.threshold()] if signers is None else signers
        commitment = self.comp.competition(comp_id).commitment if commitment is None else commitment
        root, best = self.result(comp_id, ranking)
        winners = best if winners is None else winners
        entries = len(list(ranking)) if entries is None else entries
        message = final_scores_message(
            self.comp, comp_id, root, entries, winners_hash(winners), commitment, **kw
        )
        return sign_all(signers, message)

    def finalize(
        self,
        comp_id: int,
        ranking,
        signatures: list[bytes] | None = None,
        *,
        winners=None,
        labels_cid: bytes = LABELS_CID,
        labels_salt: bytes = LABELS_SALT,
        sender: str | None = None,
    ) -> int:
        root, best = self.result(comp_id, ranking)
        winners = best if winners is None else winners
        if signatures is None:
            signatures = self.signatures(comp_id, ranking, winners=winners)
        return self.comp.finalize(
            comp_id, labels_cid, labels_salt, root, list(winners), signatures, sender=sender or self.client
        )

    def withdraw(self, who) -> int:
        who = str(getattr(who, "address", who))
        if self.comp.claimable(self.token.address, who) == 0:
            return 0
        return self.comp.withdraw(self.token.address, sender=who)

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
