"""Gas of a full one-milestone job lifecycle, from real receipts, against the floor.

Runs on the embedded py-evm chain and on anvil (if available), in steady state: a
warm-up job first, so counters and balances are non-zero as on a live escrow, and a
fresh freelancer address as payee. The floor is one `transferFrom` into a contract
plus one `transfer` out to a fresh address, measured in the same run. The token
approval is left out of both, as in the peer figures.

Usage: python bench/gas.py [--no-anvil]. Last line: one JSON object.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from eth_account import Account

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from proofwork.chain.compiler import ContractCompiler  # noqa: E402
from proofwork.sdk import Proofwork, Signer  # noqa: E402
from tests.conftest import ANVIL, running_anvil  # noqa: E402

DAY = 86_400
BUDGET_LIMIT = 200_000
# Peers measured on the same EVM (py-evm, Prague), without the approval; figures from the
# workplace reference (../shared/REFERENCE.md, section 2), not re-measured here.
PEERS = {
    "Gitcoin StandardBounties (issueAndContribute + fulfillBounty + acceptFulfillment)": 556_825,
    "Kleros MultipleArbitrableTokenTransaction (createTransaction + pay)": 274_034,
    "Kleros EscrowUniversal v2 (createERC20Transaction + pay)": 247_325,
}


def lifecycle(pw: Proofwork, client_name: str) -> dict[str, int]:
    """create+fund, submit, approve-and-pay for one fresh freelancer; gas per step."""
    client = pw.signer(client_name)
    fresh = Account.create()
    pw.fund(fresh.address, 0)  # gas money only, so the freelancer can submit
    worker = Signer("fresh", fresh.address, bytes(fresh.key))
    posted = pw.jobs.post(
        client,
        budget=pw.amount("1000"),
        milestones=1,
        deadline=pw.now() + 7 * DAY,
        review_period=3 * DAY,
        freelancer=worker.address,
        spec_hash=hashlib.sha256(b"spec").digest(),
        funding="approve",
    )
    steps = {name: r.gas_used for name, r in posted.receipts if name != "approve"}
    job_id = posted.job.job_id
    steps["submit"] = pw.jobs.submit(worker, job_id, 0, hashlib.sha256(b"model").digest()).gas
    steps["approve+pay"] = pw.jobs.approve(client, job_id, 0).gas
    return steps


def floor(pw: Proofwork) -> dict[str, int]:
    """transferFrom into a bare contract + transfer out to a fresh address, in steady state."""
    cache = Path(os.environ.get("PROOFWORK_CACHE_DIR", ROOT / ".cache" / "artifacts"))
    store = ContractCompiler(cache, ROOT / "bench" / "contracts")
    vault_artifact = store.get("FloorVault")
    chain = pw.ws.chain
    client = pw.signer("dev1")
    token = pw.ws.token
    vault_address = chain.deploy(client.key, vault_artifact.abi, vault_artifact.bytecode).contract_address
    vault = chain.contract(vault_artifact.abi, vault_address)
    token.approve(client.key, str(vault_address), 2**255)
    amount = pw.amount("1000")
    figures: dict[str, int] = {}
    for _ in range(2):  # the second round is steady state: the vault already holds a balance
        figures["transferFrom in"] = chain.transact(
            client.key, vault.functions.deposit(token.address, amount)
        ).gas_used
        chain.transact(client.key, vault.functions.deposit(token.address, amount))
        payee = Account.create().address
        figures["transfer out"] = chain.transact(
            client.key, vault.functions.pay(token.address, payee, amount)
        ).gas_used
    return figures


def run_backend(name: str, rpc_url: str | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, Proofwork.open(Path(tmp), rpc_url) as pw:
        pw.deploy("dev0", treasury=pw.address("dev9"))
        pw.fund(pw.address("dev1"), pw.amount("100000"))
        lifecycle(pw, "dev1")  # warm-up: counters, escrow balance and fee pot become non-zero
        steps = lifecycle(pw, "dev1")
        floor_steps = floor(pw)
    total = sum(steps.values())
    floor_total = sum(floor_steps.values())
    print(f"\n[{name}]")
    for step, gas in steps.items():
        print(f"  {step:<14} {gas:>9,}")
    print(
        f"  {'lifecycle':<14} {total:>9,}   (limit {BUDGET_LIMIT:,}: {'ok' if total <= BUDGET_LIMIT else 'OVER'})"
    )
    for step, gas in floor_steps.items():
        print(f"  floor {step:<16} {gas:>9,}")
    print(f"  floor total          {floor_total:>9,}   lifecycle / floor = {total / floor_total:.2f}")
    return {
        "steps": steps,
        "lifecycle_gas_total": total,
        "floor_gas_total": floor_total,
        "floor_steps": floor_steps,
    }


def main() -> int:
    results: dict[str, object] = {"embedded": run_backend("embedded py-evm", None)}
    if "--no-anvil" not in sys.argv and ANVIL.exists():
        with running_anvil() as url:
            results["anvil"] = run_backend("anvil", url)
    print("\npeers on the same EVM, approval excluded:")
    embedded = results["embedded"]
    assert isinstance(embedded, dict)
    ours = int(embedded["lifecycle_gas_total"])
    for peer, gas in PEERS.items():
        print(f"  {peer:<84} {gas:>9,}  (proofwork / peer = {ours / gas:.2f})")
    summary = {
        "lifecycle_gas_total": ours,
        "lifecycle_steps": embedded["steps"],
        "floor_gas_total": embedded["floor_gas_total"],
        "ratio_to_floor": round(ours / int(embedded["floor_gas_total"]), 3),
        "limit": BUDGET_LIMIT,
        "within_limit": ours <= BUDGET_LIMIT,
        "anvil_lifecycle_gas_total": results.get("anvil", {}).get("lifecycle_gas_total"),  # type: ignore[union-attr]
        "measured_at": int(time.time()),
    }
    print(json.dumps(summary))
    return 0 if summary["within_limit"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
