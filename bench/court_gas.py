"""Gas of the court (contracts/court/Court.vy), from real receipts on the embedded py-evm chain.

- draw of 3 jurors (`pass_period` out of the evidence period) among 10, 100, 1,000 stakers (and
  10,000 with --full: 40,000 staking transactions on py-evm take long); stakers are added
  between sizes, so each figure is a fresh dispute drawn from the tree at that size;
- a whole 3-juror case: createDispute through a test arbitrable, draw, 3 commits, 3 reveals,
  pass_period out of the appeal period, execute_ruling, distribute (rewards credited).

Usage: python bench/court_gas.py [--full]. Last line: one JSON object.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import eth_abi
from eth_account import Account
from eth_utils import keccak
from web3.logs import DISCARD

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.chain.client import Chain  # noqa: E402
from proofwork.chain.compiler import ContractCompiler  # noqa: E402

PWK, USD = 10**18, 10**6
PERIODS = [2 * 86_400, 86_400, 86_400, 2 * 86_400]
SALT = b"\x22" * 32
KLEROS = {"kleros_draw_gas_1000": 660_396, "kleros_case_gas": 2_400_000}


def main() -> int:
    sizes = [10, 100, 1_000] + ([10_000] if "--full" in sys.argv else [])
    cache = Path(os.environ.get("PROOFWORK_CACHE_DIR", ROOT / ".cache" / "artifacts"))
    contracts = ContractCompiler(cache, ROOT / "contracts")
    mocks = ContractCompiler(cache, ROOT / "tests" / "contracts" / "mocks")
    started = time.monotonic()
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp, Chain.open(Path(tmp)) as chain:
        dep = chain.dev_keys[0]
        tok_art, court_art, arb_art = (
            contracts.get("StableToken"),
            contracts.get("Court"),
            mocks.get("RulingRecorder"),
        )

        def deploy(art, *args):
            return chain.contract(art.abi, chain.deploy(dep, art.abi, art.bytecode, *args).contract_address)

        pwk = deploy(tok_art, "Proofwork Court", "PWK")
        usd = deploy(tok_art, "Court USD", "cUSD")
        treasury = Account.from_key(chain.dev_keys[9]).address
        court = deploy(court_art, pwk.address, 100 * PWK, 100 * PWK, 300, 100 * USD, PERIODS, treasury)
        arb = deploy(arb_art)
        chain.transact(dep, usd.functions.mint(arb.address, 10**9 * USD))
        jurors: list = []

        def add_stakers(n: int) -> None:
            while len(jurors) < n:
                acct = Account.from_key(keccak(text=f"bench juror {len(jurors)}"))
                chain.send_eth(dep, acct.address, 10**17)
                chain.transact(dep, pwk.functions.mint(acct.address, 1_000 * PWK))
                key = bytes(acct.key)
                chain.transact(key, pwk.functions.approve(court.address, 2**255))
                chain.transact(key, court.functions.stake(1_000 * PWK))
                jurors.append(acct)

        def open_dispute() -> tuple[int, int]:
            ex = eth_abi.encode(["address", "uint256", "uint256"], [usd.address, 1_000 * USD, 3])
            d = chain.call(court.functions.dispute_count())
            r = chain.transact(dep, arb.functions.open(court.address, usd.address, 5, ex))
            return d, r.gas_used

        def draw(d: int) -> tuple[list[str], int]:
            chain.advance_time(PERIODS[0])
            r = chain.transact(dep, court.functions.pass_period(d))
            logs = court.events.Draw().process_receipt({"logs": r.logs}, errors=DISCARD)
            return [e["args"]["_juror"] for e in logs], r.gas_used

        for n in sizes:
            add_stakers(n)
            d, _ = open_dispute()
            panel, gas = draw(d)
            assert len(panel) == 3
            out[f"draw_gas_{n}"] = gas
            print(f"  draw 3 among {n:>6} stakers: {gas:>9,} gas", flush=True)

        # a whole 3-juror case (at the largest size measured)
        keys = {a.address: bytes(a.key) for a in jurors}
        steps: dict[str, int] = {}
        d, steps["createDispute"] = open_dispute()
        panel, steps["draw"] = draw(d)
        for i, who in enumerate(panel):
            c = keccak(eth_abi.encode(["uint256", "bytes32", "address"], [1, SALT, who]))
            steps[f"commit {i}"] = chain.transact(keys[who], court.functions.commit(d, i, panel, c)).gas_used
        for i, who in enumerate(panel):
            steps[f"reveal {i}"] = chain.transact(
                keys[who], court.functions.reveal(d, i, panel, 1, SALT)
            ).gas_used
        chain.advance_time(PERIODS[3])
        steps["pass_period (appeal -> execution)"] = chain.transact(
            dep, court.functions.pass_period(d)
        ).gas_used
        steps["execute_ruling"] = chain.transact(dep, court.functions.execute_ruling(d)).gas_used
        steps["distribute (rewards)"] = chain.transact(dep, court.functions.distribute(d, 0, panel)).gas_used
        assert chain.call(arb.functions.rulings(d)) == 1
        for k, v in steps.items():
            print(f"  {k:<36} {v:>9,}")
        total = sum(steps.values())
        print(f"  whole 3-juror case                   {total:>9,}  (target 800,000; Kleros v2 about 2.4M)")
        out["dispute_case_gas"] = total
        out["dispute_case_steps"] = steps
    out.setdefault("draw_gas_10000", None)
    out.update(KLEROS)
    out["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
