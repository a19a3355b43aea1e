"""Gas of labeling payouts (issue 14) through LabelPayouts, from real receipts on the embedded py-evm
chain, and the time to build a round's payout tree for 100,000 labelers.

A round of 100 labelers, each with 100 paid labels (10,000 labels): the committee (a real
OracleCommittee, 4 oracles, threshold 3) signs the round's root; one relayer posts it and, after the
challenge window, pays everyone. Figures, all from transaction receipts (21k base and calldata
included), every labeler a fresh account (no token balance, nothing claimed before):

- `gas_per_label`: (root posting + batch claims of all 100 labelers, `claim_many` in one call) / 10,000
  (the issue's bound: at most 1,000);
- `gas_per_label_single_claims`: the same round with one `claim` per labeler;
- `claim_gas_100_leaves`, `claim_gas_100k_leaves`: one relayed `claim` of a fresh labeler in a tree of
  100 and of 100,000 labelers (issue 14's peer, a Merkle distributor claim: 72,392 and 78,156 gas);
- `post_root_gas`: posting a signed root (three signatures);
- `merkle_build_s`: `proofwork.chain.payouts_tree.PayoutsTree` over 100,000 labelers plus every
  labeler's proof, best of three (the issue's bound: at most 2 s).

Usage: python bench/labeling_gas.py. Last line: one JSON object.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from eth_account import Account
from eth_account.messages import encode_typed_data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.chain.artifacts import ArtifactStore  # noqa: E402
from proofwork.chain.client import Chain  # noqa: E402
from proofwork.chain.payouts_tree import PayoutsTree  # noqa: E402

DAY = 86_400
LABELERS = 100
LABELS_EACH = 100
PRICE = 10_000  # 0.01 pUSD a label (6 decimals)
BIG_TREE = 100_000
GAS_PER_LABEL_LIMIT = 1_000
MERKLE_BUILD_LIMIT_S = 2.0
SPEC = bytes.fromhex("11" * 32)
ZERO = "0x" + "00" * 20


def build_seconds() -> tuple[float, PayoutsTree]:
    amounts = [(f"0x{i + 1:040x}", PRICE * (1 + i % 500)) for i in range(BIG_TREE)]
    best, tree = float("inf"), None
    for _ in range(3):
        start = time.perf_counter()
        tree = PayoutsTree(amounts)
        for labeler, _ in amounts:
            tree.proof(labeler)
        best = min(best, time.perf_counter() - start)
    assert tree is not None
    return best, tree


def main() -> int:
    merkle_build_s, big_tree = build_seconds()
    store = ArtifactStore()
    token_art, escrow_art = store.get("StableToken"), store.get("JobEscrow")
    committee_art, payouts_art = store.get("OracleCommittee"), store.get("LabelPayouts")
    oracles = sorted((Account.create() for _ in range(4)), key=lambda a: int(a.address, 16))
    with tempfile.TemporaryDirectory() as tmp, Chain.open(Path(tmp)) as chain:
        owner, client, relayer = chain.dev_keys[0], chain.dev_keys[1], chain.dev_keys[2]
        client_addr = Account.from_key(client).address

        def deploy(art, *args):
            return str(chain.deploy(owner, art.abi, art.bytecode, *args).contract_address)

        token_addr = deploy(token_art, "Proofwork USD", "pUSD")
        escrow_addr = deploy(escrow_art, Account.from_key(chain.dev_keys[9]).address, 250)
        committee_addr = deploy(committee_art, escrow_addr, [o.address for o in oracles], 1, DAY, ZERO)
        payouts_addr = deploy(payouts_art)
        token = chain.contract(token_art.abi, token_addr)
        payouts = chain.contract(payouts_art.abi, payouts_addr)
        chain.transact(owner, token.functions.mint(client_addr, 10**15))
        chain.transact(client, token.functions.approve(payouts_addr, 2**255))

        def campaign(budget: int) -> int:
            close = chain.next_timestamp() + 30 * DAY
            chain.transact(
                client, payouts.functions.create(token_addr, budget, committee_addr, SPEC, DAY, close)
            )
            return int(payouts.functions.campaign_count().call())

        def post(cid: int, round_: int, tree: PayoutsTree) -> int:
            message = {
                "types": {
                    "EIP712Domain": [
                        {"name": "name", "type": "string"},
                        {"name": "version", "type": "string"},
                        {"name": "chainId", "type": "uint256"},
                        {"name": "verifyingContract", "type": "address"},
                    ],
                    "PayoutRoot": [
                        {"name": "campaignId", "type": "uint256"},
                        {"name": "round", "type": "uint256"},
                        {"name": "root", "type": "bytes32"},
                        {"name": "total", "type": "uint256"},
                        {"name": "specHash", "type": "bytes32"},
                    ],
                },
                "primaryType": "PayoutRoot",
                "domain": {
                    "name": "proofwork LabelPayouts",
                    "version": "1",
                    "chainId": chain.chain_id,
                    "verifyingContract": payouts_addr,
                },
                "message": {
                    "campaignId": cid,
                    "round": round_,
                    "root": tree.root,
                    "total": tree.total,
                    "specHash": SPEC,
                },
            }
            signable = encode_typed_data(full_message=message)
            sigs = [bytes(o.sign_message(signable).signature) for o in oracles[:3]]
            fn = payouts.functions.post_root(cid, round_, tree.root, tree.total, sigs)
            return chain.transact(relayer, fn).gas_used

        def claim(cid: int, tree: PayoutsTree, labeler: str) -> int:
            fn = payouts.functions.claim(cid, labeler, tree.amounts[labeler.lower()], tree.proof(labeler))
            return chain.transact(relayer, fn).gas_used

        def round_of_fresh_labelers() -> tuple[list[str], PayoutsTree]:
            who = [Account.create().address for _ in range(LABELERS)]
            return who, PayoutsTree((w, LABELS_EACH * PRICE) for w in who)

        # one round, batch claims
        cid = campaign(LABELERS * LABELS_EACH * PRICE)
        who, tree = round_of_fresh_labelers()
        post_gas = post(cid, 1, tree)
        chain.advance_time(DAY)
        claims = [(w, tree.amounts[w.lower()], tree.proof(w)) for w in who]
        batch_gas = chain.transact(relayer, payouts.functions.claim_many(cid, claims)).gas_used
        assert token.functions.balanceOf(who[-1]).call() == LABELS_EACH * PRICE
        gas_per_label = (post_gas + batch_gas) / (LABELERS * LABELS_EACH)

        # the same round, one claim each
        cid = campaign(LABELERS * LABELS_EACH * PRICE)
        who, tree = round_of_fresh_labelers()
        single_post_gas = post(cid, 1, tree)
        chain.advance_time(DAY)
        singles = [claim(cid, tree, w) for w in who]
        gas_per_label_single = (single_post_gas + sum(singles)) / (LABELERS * LABELS_EACH)
        claim_100 = singles[-1]  # a steady-state claim (the first one also made the root claimable)

        # one claim in a tree of 100,000 labelers (two fresh labelers swapped in for two leaves)
        cid = campaign(big_tree.total + 2 * PRICE * 1_000)
        extra = [Account.create().address for _ in range(2)]
        big = PayoutsTree([*list(big_tree.amounts.items())[2:], (extra[0], PRICE * 7), (extra[1], PRICE * 9)])
        post(cid, 1, big)
        chain.advance_time(DAY)
        claim(cid, big, extra[0])
        claim_100k = claim(cid, big, extra[1])

    figures = {
        "gas_per_label": round(gas_per_label, 1),
        "gas_per_label_single_claims": round(gas_per_label_single, 1),
        "post_root_gas": post_gas,
        "claim_many_100_gas": batch_gas,
        "claim_gas_100_leaves": claim_100,
        "claim_gas_100k_leaves": claim_100k,
        "merkle_build_s": round(merkle_build_s, 3),
        "gas_per_label_limit": GAS_PER_LABEL_LIMIT,
        "merkle_build_limit_s": MERKLE_BUILD_LIMIT_S,
        "within_limits": gas_per_label <= GAS_PER_LABEL_LIMIT and merkle_build_s <= MERKLE_BUILD_LIMIT_S,
        "measured_at": int(time.time()),
    }
    for key, value in figures.items():
        print(f"  {key:<28} {value}")
    print(json.dumps(figures))
    return 0 if figures["within_limits"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
