"""Gas of an arbitrated escrow dispute through EscrowArbitrable and the test
CentralizedArbitrator, from real receipts on the embedded py-evm chain (steady state:
one warm-up case first). Steps: open_case (the opener's fee deposit included), pay_fee
(the other deposit + createDispute), the arbitrator's ruling (rule), execute_ruling.

Usage: python bench/court_adapter_gas.py. Last line: one JSON object.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from eth_account import Account
from eth_utils import keccak

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from proofwork.chain.client import Chain  # noqa: E402
from proofwork.chain.compiler import compile_contract  # noqa: E402
from proofwork.chain.encoding import job_tuple  # noqa: E402
from proofwork.chain.escrow import EscrowContract  # noqa: E402
from proofwork.domain import job as J  # noqa: E402

DAY = 86_400
CONTRACTS = ROOT / "contracts"
MOCKS = ROOT / "tests" / "contracts" / "mocks"


def main() -> int:
    token_art = compile_contract(CONTRACTS / "tokens" / "StableToken.vy", CONTRACTS)
    escrow_art = compile_contract(CONTRACTS / "escrow" / "JobEscrow.vy", CONTRACTS)
    adapter_art = compile_contract(CONTRACTS / "court" / "EscrowArbitrable.vy", CONTRACTS)
    arb_art = compile_contract(MOCKS / "CentralizedArbitrator.vy", MOCKS)
    with tempfile.TemporaryDirectory() as tmp, Chain.open(Path(tmp)) as chain:
        owner, client = chain.dev_keys[0], chain.dev_keys[1]
        client_addr = Account.from_key(client).address
        treasury = Account.from_key(chain.dev_keys[9]).address

        def deploy(art, *args):
            return str(chain.deploy(owner, art.abi, art.bytecode, *args).contract_address)

        token_addr = deploy(token_art, "Proofwork USD", "pUSD")
        escrow_addr = deploy(escrow_art, treasury, 250)
        arb_addr = deploy(arb_art, token_addr, 10**6, 100, 5 * 10**6, 0)
        adapter_addr = deploy(adapter_art, escrow_addr, arb_addr, 3, 3 * DAY)
        token = chain.contract(token_art.abi, token_addr)
        arb = chain.contract(arb_art.abi, arb_addr)
        adapter = chain.contract(adapter_art.abi, adapter_addr)
        escrow = EscrowContract(chain, escrow_art, escrow_addr)
        chain.transact(owner, token.functions.mint(client_addr, 10**15))
        chain.transact(client, token.functions.approve(escrow_addr, 2**255))
        chain.transact(client, token.functions.approve(adapter_addr, 2**255))

        def apply(job, receipt):
            for event in escrow.decode_receipt(receipt):
                job = J.apply_event(job, event)
            return job

        def case_gas() -> dict[str, int]:
            worker = Account.create()
            chain.send_eth(owner, worker.address, 10**17)
            chain.transact(owner, token.functions.mint(worker.address, 10**9))
            wkey = bytes(worker.key)
            chain.transact(wkey, token.functions.approve(adapter_addr, 2**255))
            receipt = escrow.create_job(
                client,
                token_addr,
                worker.address,
                [100 * 10**6],
                chain.next_timestamp() + 7 * DAY,
                3 * DAY,
                keccak(b"spec"),
                adapter_addr,
            )
            job = J.new_job(next(e for e in escrow.decode_receipt(receipt) if isinstance(e, J.JobCreated)))
            job = apply(job, escrow.submit(wkey, job, 0, keccak(b"model")))
            job = apply(
                job,
                chain.transact(wkey, escrow.contract.functions.raise_dispute(job.job_id, job_tuple(job), 0)),
            )
            steps: dict[str, int] = {}
            r = chain.transact(
                wkey, adapter.functions.open_case(job.job_id, job_tuple(job), 0, "ipfs://meta")
            )
            steps["open_case"] = r.gas_used
            case_id = adapter.functions.case_count().call()
            r = chain.transact(client, adapter.functions.pay_fee(case_id, job_tuple(job)))
            steps["pay_fee"] = r.gas_used
            dispute_id = adapter.functions.cases(case_id).call()[10]
            steps["rule"] = chain.transact(owner, arb.functions.give_ruling(dispute_id, 1)).gas_used
            r = chain.transact(client, adapter.functions.execute_ruling(case_id, job_tuple(job)))
            steps["execute_ruling"] = r.gas_used
            return steps

        case_gas()  # warm-up
        steps = case_gas()
    for k, v in steps.items():
        print(f"  {k:<16} {v:>9,}")
    total = sum(steps.values())
    print(f"  {'total':<16} {total:>9,}")
    print(
        json.dumps(
            {
                "adapter_open_gas": steps["open_case"],
                "adapter_pay_fee_gas": steps["pay_fee"],
                "adapter_rule_gas": steps["rule"],
                "adapter_execute_gas": steps["execute_ruling"],
                "adapter_case_gas_total": total,
                "measured_at": int(time.time()),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
