"""Labelers' claims under a campaign's claimable root: a proof from the round's tree, `claim` for one
labeler or `claim_many` for up to 128 at once, sent by anyone (a relayer pays the gas, the tokens go to
the labelers). Every claim is checked against the tree and what each labeler has claimed before it is
sent; the contract refuses the rest (a forged proof, an amount above the cumulative, a replay)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from proofwork.domain.addresses import parse_address
from proofwork.domain.errors import NotAllowed, NotFound
from proofwork.services.labeling.campaigns import on_chain, open_store
from proofwork.services.workspace import Signer, Workspace

if TYPE_CHECKING:
    from proofwork.chain.payouts_tree import PayoutsTree
    from proofwork.chain.receipts import Receipt
    from proofwork.chain.unsigned import UnsignedTx

MAX_CLAIMS = 128


@dataclass(frozen=True)
class ClaimableRound:
    round: int
    tree: PayoutsTree


def claimable_round(ws: Workspace, campaign_id: int) -> ClaimableRound:
    """The round whose root claims are checked against now, with its tree (rebuilt from the amounts
    this node published, or recomputed from the bundle, and checked against the root on chain)."""
    from proofwork.chain.payouts_tree import PayoutsTree
    from proofwork.services.labeling.rounds import verify_round

    state = on_chain(ws, campaign_id)
    if state.root == bytes(32):
        if state.pending_root != bytes(32):
            raise NotAllowed(
                f"round {state.pending_round} of campaign {campaign_id} is claimable from "
                f"{state.pending_at + state.challenge_window} (its challenge window)"
            )
        raise NotAllowed(f"campaign {campaign_id} has no claimable root yet")
    with open_store(ws) as store:
        ours = {r.round: r for r in store.rounds(campaign_id)}
    row = ours.get(state.round)
    if row is not None:
        tree = PayoutsTree(sorted(row.owed.items()))
    else:
        again = verify_round(ws, campaign_id, state.round).again
        if again.tree is None:
            raise NotFound(f"round {state.round} of campaign {campaign_id} owes nobody anything")
        tree = again.tree
    if tree.root != state.root:
        raise NotAllowed(f"the tree of round {state.round} does not match the root on chain")
    return ClaimableRound(state.round, tree)


@dataclass(frozen=True)
class ClaimProof:
    campaign_id: int
    round: int
    labeler: str
    cumulative: int
    claimed: int
    proof: list[bytes]

    @property
    def due(self) -> int:
        return max(0, self.cumulative - self.claimed)

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "round": self.round,
            "labeler": self.labeler,
            "cumulative": self.cumulative,
            "claimed": self.claimed,
            "due": self.due,
            "proof": ["0x" + p.hex() for p in self.proof],
        }


def claim_proof(
    ws: Workspace, campaign_id: int, labeler: str, current: ClaimableRound | None = None
) -> ClaimProof:
    labeler = parse_address(labeler, "labeler").lower()
    current = current or claimable_round(ws, campaign_id)
    if labeler not in current.tree.amounts:
        raise NotFound(f"{labeler} is owed nothing in round {current.round} of campaign {campaign_id}")
    return ClaimProof(
        campaign_id,
        current.round,
        labeler,
        current.tree.amounts[labeler],
        ws.label_payouts.claimed(campaign_id, labeler),
        current.tree.proof(labeler),
    )


@dataclass(frozen=True)
class ClaimResult:
    campaign_id: int
    round: int
    paid: dict[str, int]  # labeler -> paid by this call
    receipts: list[Receipt]

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "round": self.round,
            "paid": self.paid,
            "total": sum(self.paid.values()),
            "transactions": [r.tx_hash for r in self.receipts],
            "gas": sum(r.gas_used for r in self.receipts),
        }


def claim(
    ws: Workspace, relayer: Signer, campaign_id: int, labelers: Sequence[str] | None = None
) -> ClaimResult:
    """Pays the given labelers (every labeler with something due when None): `claim` for one,
    `claim_many` in chunks of 128 for more. A named labeler with nothing due is refused before
    anything is sent."""
    current = claimable_round(ws, campaign_id)
    names = list(labelers) if labelers is not None else sorted(current.tree.amounts)
    proofs = [claim_proof(ws, campaign_id, who, current) for who in names]
    due = [p for p in proofs if p.due > 0]
    if labelers is not None and len(due) < len(proofs):
        paid_up = next(p for p in proofs if p.due == 0)
        raise NotAllowed(
            f"{paid_up.labeler} has claimed its {paid_up.cumulative} of round {current.round}: nothing to claim"
        )
    if not due:
        raise NotAllowed(
            f"nobody has anything left to claim in round {current.round} of campaign {campaign_id}"
        )
    payouts = ws.label_payouts
    receipts = []
    if len(due) == 1:
        p = due[0]
        receipts.append(payouts.claim(relayer.key, campaign_id, p.labeler, p.cumulative, p.proof))
    else:
        for i in range(0, len(due), MAX_CLAIMS):
            chunk = [(p.labeler, p.cumulative, p.proof) for p in due[i : i + MAX_CLAIMS]]
            receipts.append(payouts.claim_many(relayer.key, campaign_id, chunk))
    paid: dict[str, int] = {}
    for receipt in receipts:
        for e in payouts.receipt_events(receipt):
            if e.name == "Claimed":
                paid[str(e.args["labeler"]).lower()] = int(e.args["amount"])
    return ClaimResult(campaign_id, current.round, paid, receipts)


def prepare_claim(ws: Workspace, sender: str, campaign_id: int, labeler: str) -> UnsignedTx:
    """The unsigned `claim` of a labeler's due amount, for `sender`'s wallet (the labeler's or a
    relayer's) to sign."""
    p = claim_proof(ws, campaign_id, labeler)
    if p.due == 0:
        raise NotAllowed(
            f"{p.labeler} has nothing left to claim in round {p.round} of campaign {campaign_id}"
        )
    return ws.label_payouts.prepare_claim(
        parse_address(sender, "sender"), campaign_id, p.labeler, p.cumulative, p.proof
    )
