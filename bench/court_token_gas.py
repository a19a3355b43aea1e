"""Gas of the court token PWK (contracts/court/CourtToken.vy), from real receipts.

Runs on the embedded py-evm chain (one block per transaction, so every vote change writes a
new checkpoint, the dearer case). The token is compiled on the fly (not a shipped artifact yet)
and deployed by dev0, who hands 1,000 PWK to dev1, dev2 and dev3. Figures, all from transaction
receipts (21k base and calldata included):

- delegate: dev1's first self-delegation (a new delegate slot, a new checkpoint, the count);
  then a redelegation of dev1 to dev3 (two checkpoints, one of them for a new delegate);
- transfer between two delegating accounts: dev2 self-delegates, then dev1 -> dev2 (two balance
  updates, a checkpoint appended to each delegate), in steady state (the second such transfer);
- transfer from a delegating account to an undelegated one with no balance (one checkpoint,
  one new balance slot), and between two undelegated accounts (plain ERC-20, for comparison).

OpenZeppelin's figure for reference (ERC20Votes in its Governor 5.5 set-up, same EVM, from the
workplace reference REFERENCE.md): delegate 95,666.

Usage: python bench/court_token_gas.py. Last line: one JSON object.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from eth_account import Account

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.chain.compiler import ContractCompiler  # noqa: E402
from proofwork.sdk import Proofwork  # noqa: E402

E18 = 10**18
SUPPLY = 100_000_000 * E18
OZ_DELEGATE = 95_666  # OpenZeppelin Governor 5.5 set-up, delegate (REFERENCE.md)


def measure() -> dict[str, int]:
    cache = Path(os.environ.get("PROOFWORK_CACHE_DIR", ROOT / ".cache" / "artifacts"))
    artifact = ContractCompiler(cache, ROOT / "contracts").get("CourtToken")
    with tempfile.TemporaryDirectory() as tmp, Proofwork.open(Path(tmp), None) as pw:
        chain = pw.ws.chain
        dev0, dev1, dev2, dev3 = (pw.signer(f"dev{i}") for i in range(4))
        deployed = chain.deploy(dev0.key, artifact.abi, artifact.bytecode, SUPPLY)
        figures = {"deploy": deployed.gas_used}
        f = chain.contract(artifact.abi, deployed.contract_address).functions
        for holder in (dev1, dev2, dev3):
            chain.transact(dev0.key, f.transfer(holder.address, 1_000 * E18))
        figures["plain transfer (undelegated -> undelegated)"] = chain.transact(
            dev3.key, f.transfer(dev0.address, 1 * E18)
        ).gas_used

        figures["delegate (first self-delegation)"] = chain.transact(
            dev1.key, f.delegate(dev1.address)
        ).gas_used
        assert chain.call(f.getVotes(dev1.address)) == 1_000 * E18
        chain.transact(dev2.key, f.delegate(dev2.address))
        chain.transact(dev1.key, f.transfer(dev2.address, 1 * E18))  # warm-up
        figures["transfer between delegating accounts"] = chain.transact(
            dev1.key, f.transfer(dev2.address, 1 * E18)
        ).gas_used
        assert chain.call(f.getVotes(dev2.address)) == 1_002 * E18
        figures["transfer delegating -> fresh undelegated"] = chain.transact(
            dev1.key, f.transfer(Account.create().address, 1 * E18)
        ).gas_used
        figures["redelegate (self -> another holder, first votes there)"] = chain.transact(
            dev1.key, f.delegate(dev3.address)
        ).gas_used
        assert chain.call(f.getVotes(dev3.address)) == chain.call(f.balanceOf(dev1.address))
    return figures


def main() -> int:
    figures = measure()
    print("[embedded py-evm] PWK (receipts, gas used)")
    for step, gas in figures.items():
        print(f"  {step:<56} {gas:>9,}")
    delegate = figures["delegate (first self-delegation)"]
    reference = "OpenZeppelin delegate (reference)"
    print(f"  {reference:<56} {OZ_DELEGATE:>9,}   PWK / OZ = {delegate / OZ_DELEGATE:.2f}")
    print(
        json.dumps(
            {
                "pwk_delegate_gas": delegate,
                "pwk_transfer_gas": figures["transfer between delegating accounts"],
                "pwk_redelegate_gas": figures["redelegate (self -> another holder, first votes there)"],
                "pwk_transfer_to_undelegated_gas": figures["transfer delegating -> fresh undelegated"],
                "pwk_plain_transfer_gas": figures["plain transfer (undelegated -> undelegated)"],
                "pwk_deploy_gas": figures["deploy"],
                "oz_delegate_gas_reference": OZ_DELEGATE,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
