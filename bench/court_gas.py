"""Gas of the court (contracts/court/Court.vy), from real receipts on the embedded py-evm chain.

- draw of 3 jurors among 10, 100, 1,000 and 10,000 stakers. A draw takes two transactions in
  different blocks: `pass_period` out of the evidence period arms it (reported as `arm_gas`),
  a second `pass_period` draws (reported as `draw_gas_N`). Stakers are added between sizes, so
  each figure is a fresh dispute drawn from the tree at that size. The first 100 stakers stake
  with real transactions; the others are written into the chain's state directly (the storage a
  `stake` would leave: sum-tree nodes, leaf, weight, balance; the court's tokens minted to it),
  then checked against the court's getters and a real `stake` on top: 40,000 staking
  transactions would take py-evm half an hour. Every gas figure is a real receipt.
- a whole 3-juror case among 1,000 stakers: createDispute through a test arbitrable, arm and
  draw, 3 commits, 3 reveals, execute_ruling once the appeal period is over (it makes the
  ruling final), distribute (rewards credited).

Usage: python bench/court_gas.py [--quick] (--quick: 10 and 100 stakers only). Last line: one
JSON object.
"""

from __future__ import annotations

import json
import os
import subprocess
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
STAKE = 1_000 * PWK
REAL_STAKERS = 100  # stakers beyond this one are written into the state
KLEROS = {"kleros_draw_gas_1000": 660_396, "kleros_case_gas": 2_400_000}


def storage_layout(source: Path) -> dict[str, int]:
    """Storage slot of every variable of a contract (modules flattened), from the compiler."""
    vyper = Path(sys.executable).with_name("vyper")
    raw = subprocess.run(
        [str(vyper), "-f", "layout", str(source), "-p", str(ROOT / "contracts")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    slots: dict[str, int] = {}

    def walk(node: dict) -> None:
        for name, v in node.items():
            if isinstance(v, dict) and "slot" in v:
                slots[name] = v["slot"]
            elif isinstance(v, dict):
                walk(v)

    walk(json.loads(raw)["storage_layout"])
    return slots


def map_slot(base: int, key: int | str) -> int:
    """Vyper: a HashMap entry lives at keccak256(abi_encode(slot, key))."""
    k = int(key, 16) if isinstance(key, str) else key
    return int.from_bytes(keccak(base.to_bytes(32, "big") + k.to_bytes(32, "big")), "big")


def fenwick(weights: list[int], cap: int) -> list[int]:
    """Fenwick nodes 1..cap (index 0 unused) over leaf weights 1..len(weights)."""
    nodes = [0] * (cap + 1)
    for leaf, w in enumerate(weights, start=1):
        i = leaf
        while i <= cap:
            nodes[i] += w
            i += i & -i
    return nodes


def main() -> int:
    sizes = [10, 100] if "--quick" in sys.argv else [10, 100, 1_000, 10_000]
    cache = Path(os.environ.get("PROOFWORK_CACHE_DIR", ROOT / ".cache" / "artifacts"))
    contracts = ContractCompiler(cache, ROOT / "contracts")
    mocks = ContractCompiler(cache, ROOT / "tests" / "contracts" / "mocks")
    layout = storage_layout(ROOT / "contracts" / "court" / "Court.vy")
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

        def juror_account(i: int):
            return Account.from_key(keccak(text=f"bench juror {i}"))

        def stake_for_real(acct) -> None:
            chain.send_eth(dep, acct.address, 10**17)
            chain.transact(dep, pwk.functions.mint(acct.address, STAKE))
            key = bytes(acct.key)
            chain.transact(key, pwk.functions.approve(court.address, 2**255))
            chain.transact(key, court.functions.stake(STAKE))

        def write_stakers(n: int) -> None:
            """Writes stakers len(jurors)+1..n into the court's storage, as `stake` would."""
            embedded = chain._on_close.__self__  # the embedded chain (bench only)
            backend = embedded._backend
            new = [juror_account(i) for i in range(len(jurors), n)]
            first_leaf = chain.call(court.functions.leaf_count()) + 1
            weights = [chain.call(court.functions.weight(j.address)) for j in jurors] + [STAKE] * len(new)
            cap = 1
            while cap < len(weights):
                cap *= 2
            nodes = fenwick(weights, cap)
            chain.transact(dep, pwk.functions.mint(court.address, STAKE * len(new)))
            addr = bytes.fromhex(court.address[2:])
            vm = backend.chain.get_vm()
            state = vm.state
            for i in range(1, cap + 1):
                state.set_storage(addr, map_slot(layout["_nodes"], i), nodes[i])
            state.set_storage(addr, layout["leaf_count"], len(weights))
            state.set_storage(addr, layout["_cap"], cap)
            for k, acct in enumerate(new):
                leaf = first_leaf + k
                a = acct.address
                state.set_storage(addr, map_slot(layout["stake_balance"], a), STAKE)
                state.set_storage(addr, map_slot(layout["_wl"], a), STAKE << 128)
                state.set_storage(addr, map_slot(layout["leaf_of"], a), leaf)
                state.set_storage(addr, map_slot(layout["juror_of"], leaf), int(a, 16))
            state.persist()
            backend.chain.header = backend.chain.header.copy(state_root=state.state_root)
            backend.mine_blocks()
            jurors.extend(new)
            # the written state is what staking leaves: getters agree, and a real stake on top works
            assert chain.call(court.functions.leaf_count()) == len(weights)
            assert chain.call(court.functions.total_stake()) == sum(weights)
            for acct in (new[0], new[-1]):
                assert chain.call(court.functions.weight(acct.address)) == STAKE
                assert chain.call(
                    court.functions.juror_of(chain.call(court.functions.leaf_of(acct.address)))
                ) == (acct.address)

        def add_stakers(n: int) -> None:
            while len(jurors) < min(n, REAL_STAKERS):
                acct = juror_account(len(jurors))
                stake_for_real(acct)
                jurors.append(acct)
            if len(jurors) < n:
                write_stakers(n - 1)
                acct = juror_account(len(jurors))  # the last one stakes for real, on top
                stake_for_real(acct)
                jurors.append(acct)
                assert chain.call(court.functions.total_stake()) == STAKE * len(jurors)

        def open_dispute() -> tuple[int, int]:
            ex = eth_abi.encode(["address", "uint256", "uint256"], [usd.address, 1_000 * USD, 3])
            d = chain.call(court.functions.dispute_count())
            r = chain.transact(dep, arb.functions.open(court.address, usd.address, 5, ex))
            return d, r.gas_used

        def draw(d: int) -> tuple[list[str], int, int]:
            """Arms the draw (first pass_period), then draws in the next block (second)."""
            chain.advance_time(PERIODS[0])
            arm = chain.transact(dep, court.functions.pass_period(d))
            r = chain.transact(dep, court.functions.pass_period(d))
            logs = court.events.Draw().process_receipt({"logs": r.logs}, errors=DISCARD)
            return [e["args"]["_juror"] for e in logs], arm.gas_used, r.gas_used

        def whole_case() -> None:
            """A whole 3-juror case among the stakers so far (every step a real transaction)."""
            keys = {a.address: bytes(a.key) for a in jurors}
            steps: dict[str, int] = {}
            d, steps["createDispute"] = open_dispute()
            panel, steps["arm the draw"], steps["draw"] = draw(d)
            for who in set(panel):
                if chain.eth_balance(who) == 0:
                    chain.send_eth(dep, who, 10**17)
            for i, who in enumerate(panel):
                c = keccak(eth_abi.encode(["uint256", "bytes32", "address"], [1, SALT, who]))
                steps[f"commit {i}"] = chain.transact(
                    keys[who], court.functions.commit(d, i, panel, c)
                ).gas_used
            for i, who in enumerate(panel):
                steps[f"reveal {i}"] = chain.transact(
                    keys[who], court.functions.reveal(d, i, panel, 1, SALT)
                ).gas_used
            chain.advance_time(PERIODS[3])
            steps["execute_ruling (appeal over)"] = chain.transact(
                dep, court.functions.execute_ruling(d)
            ).gas_used
            steps["distribute (rewards)"] = chain.transact(
                dep, court.functions.distribute(d, 0, panel)
            ).gas_used
            assert chain.call(arb.functions.rulings(d)) == 1
            for k, v in steps.items():
                print(f"    {k:<34} {v:>9,}")
            total = sum(steps.values())
            print(
                f"  whole 3-juror case ({len(jurors):,} stakers) {total:>9,}  (target 800,000; Kleros v2 about 2.4M)"
            )
            out["dispute_case_gas"] = total
            out["dispute_case_stakers"] = len(jurors)
            out["dispute_case_steps"] = steps

        case_at = 1_000 if 1_000 in sizes else sizes[-1]
        for n in sizes:
            add_stakers(n)
            d, _ = open_dispute()
            panel, arm_gas, gas = draw(d)
            assert len(panel) == 3
            out[f"draw_gas_{n}"] = gas
            out["arm_gas"] = arm_gas
            print(f"  draw 3 among {n:>6} stakers: {gas:>9,} gas  (arming it: {arm_gas:,})", flush=True)
            if n == case_at:
                whole_case()
    out.update(KLEROS)
    out["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
