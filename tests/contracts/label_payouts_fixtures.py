"""Helpers for the LabelPayouts tests: a campaign driver over the real OracleCommittee, EIP-712
`PayoutRoot` signatures made with eth_account, and payout trees built with murky-tree (the
Python port of OpenZeppelin's StandardMerkleTree, independent of `proofwork.chain.payouts_tree`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import boa
from committee_fixtures import CommitteeDeployer, oracle_accounts
from escrow_harness import chain_id, new_account, now
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address
from murky_tree import StandardMerkleTree

REPO = Path(__file__).resolve().parents[2]
PAYOUTS_PATH = REPO / "contracts" / "labeling" / "LabelPayouts.vy"
DOMAIN_NAME = "proofwork LabelPayouts"
DAY = 86_400
HOUR = 3_600
USD = 10**6
CLAIM_PERIOD = 365 * DAY
WINDOW = DAY  # the campaigns' challenge window
SPEC = hashlib.sha256(b"labeling campaign spec: digits, 3 labels per item, 10 % gold").digest()
ORACLES = oracle_accounts(4, "labeling oracle")  # n = 4, f = 1: threshold 3
LEAF_TYPES = ["address", "uint256"]

_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_ROOT_FIELDS = [
    {"name": "campaignId", "type": "uint256"},
    {"name": "round", "type": "uint256"},
    {"name": "root", "type": "bytes32"},
    {"name": "total", "type": "uint256"},
    {"name": "specHash", "type": "bytes32"},
]


def deploy_committee(escrow, oracles=ORACLES, f: int = 1):
    return CommitteeDeployer().deploy(escrow.address, [o.address for o in oracles], f, DAY)


def root_message(
    contract,
    campaign_id: int,
    round_: int,
    root: bytes,
    total: int,
    spec: bytes = SPEC,
    *,
    chain: int | None = None,
) -> dict:
    return {
        "types": {"EIP712Domain": _DOMAIN_FIELDS, "PayoutRoot": _ROOT_FIELDS},
        "primaryType": "PayoutRoot",
        "domain": {
            "name": DOMAIN_NAME,
            "version": "1",
            "chainId": chain_id() if chain is None else chain,
            "verifyingContract": getattr(contract, "address", contract),
        },
        "message": {
            "campaignId": campaign_id,
            "round": round_,
            "root": root,
            "total": total,
            "specHash": spec,
        },
    }


def digest_of(message: dict) -> bytes:
    signable = encode_typed_data(full_message=message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign(signers, message: dict, *, ascending: bool = True) -> list[bytes]:
    """Signatures of `signers`, ordered by address (as `post_root` wants) unless `ascending` is False."""
    ordered = sorted(signers, key=lambda a: int(a.address, 16), reverse=not ascending)
    signable = encode_typed_data(full_message=message)
    return [bytes(a.sign_message(signable).signature) for a in ordered]


class Tree:
    """A round's (labeler, cumulative) tree, built by murky-tree."""

    def __init__(self, amounts: dict[str, int]) -> None:
        self.amounts = {to_checksum_address(k): v for k, v in amounts.items()}
        self.values = [[k, v] for k, v in self.amounts.items()]
        self.tree = StandardMerkleTree.of(self.values, LEAF_TYPES)
        self.index = {k: i for i, (k, _) in enumerate(self.values)}

    @property
    def root(self) -> bytes:
        return bytes(self.tree.tree[0])

    @property
    def total(self) -> int:
        return sum(self.amounts.values())

    def proof(self, labeler: str) -> list[bytes]:
        return [bytes.fromhex(p[2:]) for p in self.tree.get_proof(self.index[to_checksum_address(labeler)])]


def labelers(n: int, label: str = "labeler") -> list[str]:
    return [new_account(f"{label} {i}").address for i in range(n)]


class Campaigns:
    """Drives one LabelPayouts deployment: creates funded campaigns, posts signed roots, claims."""

    def __init__(self, payouts, token, committee, minter: str | None, client: str) -> None:
        self.payouts, self.token, self.committee, self.minter, self.client = (
            payouts,
            token,
            committee,
            minter,
            client,
        )

    def mint(self, to: str, amount: int) -> None:
        if self.minter is None:
            self.token.mint(to, amount)
        else:
            self.token.mint(to, amount, sender=self.minter)

    def create(
        self, budget: int = 1_000 * USD, *, window: int = WINDOW, duration: int = 30 * DAY, client=None
    ) -> int:
        client = client or self.client
        self.mint(client, budget)
        self.token.approve(self.payouts.address, budget, sender=client)
        return self.payouts.create(
            self.token.address, budget, self.committee.address, SPEC, window, now() + duration, sender=client
        )

    def signatures(self, campaign_id: int, round_: int, root: bytes, total: int, signers=None) -> list[bytes]:
        signers = ORACLES[:3] if signers is None else signers
        return sign(signers, root_message(self.payouts, campaign_id, round_, root, total))

    def post(
        self, campaign_id: int, round_: int, tree: Tree, signers=None, *, total: int | None = None
    ) -> None:
        total = tree.total if total is None else total
        sigs = self.signatures(campaign_id, round_, tree.root, total, signers)
        self.payouts.post_root(
            campaign_id, round_, tree.root, total, sigs, sender=new_account("relayer").address
        )

    def post_and_wait(self, campaign_id: int, round_: int, tree: Tree, signers=None) -> None:
        self.post(campaign_id, round_, tree, signers)
        boa.env.time_travel(seconds=self.payouts.campaign(campaign_id).challenge_window)

    def claim(self, campaign_id: int, tree: Tree, labeler: str, sender: str | None = None) -> int:
        return self.payouts.claim(
            campaign_id,
            labeler,
            tree.amounts[to_checksum_address(labeler)],
            tree.proof(labeler),
            sender=sender or new_account("relayer").address,
        )

    def claim_many(self, campaign_id: int, tree: Tree, who: list[str], sender: str | None = None) -> int:
        claims = [(w, tree.amounts[to_checksum_address(w)], tree.proof(w)) for w in who]
        return self.payouts.claim_many(campaign_id, claims, sender=sender or new_account("relayer").address)


def travel_to(t: int) -> None:
    assert t >= now(), "cannot travel back in time"
    boa.env.time_travel(seconds=t - now())
